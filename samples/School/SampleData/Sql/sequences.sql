-- The rows were inserted with explicit ids; the application's next insert must not collide with them.
SELECT setval(pg_get_serial_sequence(table_name, 'id'), coalesce(max_id, 0) + 1, false)
FROM (VALUES ('schools', (SELECT max(id) FROM schools)),
             ('terms', (SELECT max(id) FROM terms)),
             ('users', (SELECT max(id) FROM users)),
             ('classes', (SELECT max(id) FROM classes)),
             ('enrollments', (SELECT max(id) FROM enrollments)),
             ('activity_logs', (SELECT max(id) FROM activity_logs))) AS tables (table_name, max_id)
