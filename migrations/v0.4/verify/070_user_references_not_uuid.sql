-- users.id must be the UUID primary key, and every column that references users must hold UUIDs.
SELECT 'users' AS table_name, 'id' AS column_name
WHERE NOT EXISTS (
    SELECT FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
    WHERE c.conrelid = 'users'::regclass AND c.contype = 'p' AND a.attname = 'id' AND a.atttypid = 'uuid'::regtype)
UNION ALL
SELECT c.conrelid::regclass::text, a.attname::text
FROM pg_constraint c
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
WHERE c.contype = 'f' AND c.confrelid = 'users'::regclass AND a.atttypid <> 'uuid'::regtype
