-- The teachers' class list, dropped in 030, now with the UUID and the names v0.4 shows.
CREATE VIEW class_rosters AS
SELECT c.id AS class_id, c.name AS class_name, t.name AS term_name,
       s.id AS student_id, s.username, s.display_name, s.email, e.final_grade
FROM enrollments e
JOIN classes c ON c.id = e.class_id
JOIN terms t ON t.id = c.term_id
JOIN users s ON s.id = e.student_id;
