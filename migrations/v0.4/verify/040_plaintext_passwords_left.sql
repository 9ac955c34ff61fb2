-- The plaintext column must be gone.
SELECT attrelid::regclass AS table_name, attname AS column_name
FROM pg_attribute
WHERE attrelid = 'users'::regclass AND attname = 'password' AND NOT attisdropped
