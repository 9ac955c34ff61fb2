-- Likewise for teachers: only a teacher teaches a class.
SELECT c.id, c.teacher_id
FROM classes c
JOIN users u ON u.id = c.teacher_id
WHERE u.role <> 'teacher'
