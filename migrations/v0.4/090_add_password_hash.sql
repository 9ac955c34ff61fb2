-- Filled by 100_HashPasswords.cs; 110 makes it NOT NULL and drops the plaintext.
ALTER TABLE users ADD COLUMN password_hash text;
