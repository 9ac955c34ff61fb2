-- A student is enrolled only in classes of their own school; a remap that crossed ids would break this too.
SELECT e.id, e.student_id, e.class_id
FROM enrollments e
JOIN users u ON u.id = e.student_id
JOIN classes c ON c.id = e.class_id
JOIN terms t ON t.id = c.term_id
WHERE t.school_id <> u.school_id
