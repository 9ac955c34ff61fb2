-- The remap must have kept every enrollment with a student: a teacher or admin here means ids were crossed.
SELECT e.id, e.student_id
FROM enrollments e
JOIN users u ON u.id = e.student_id
WHERE u.role <> 'student'
