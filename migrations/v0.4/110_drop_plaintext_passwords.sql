-- Runs after 100_HashPasswords.cs has filled password_hash, in the same transaction.
ALTER TABLE users
    ALTER COLUMN password_hash SET NOT NULL,
    ADD CONSTRAINT users_password_hash_check CHECK (password_hash LIKE '$argon2id$%'),
    DROP COLUMN password;

-- DROP COLUMN only hides a column: the plaintext would stay in every row on disk until the row is next
-- written. CLUSTER rewrites the table now, nulling dropped columns, and the old files are deleted at commit.
-- (The plaintext still lives in the safe-harbor dump and in WAL archives: see migrations/README.md.)
CLUSTER users USING users_legacy_id_key;
