-- Classes go round-robin over the schools, each in one of its school's terms, taught by one of its teachers.
WITH teachers AS (
    SELECT school_id, id, row_number() OVER (PARTITION BY school_id ORDER BY id) AS slot
    FROM users WHERE role = 'teacher'
), teacher_counts AS (
    SELECT school_id, count(*) AS teachers FROM users WHERE role = 'teacher' GROUP BY school_id
), picks AS (
    SELECT g AS id,
           1 + (g - 1) % @schools AS school_id,
           ((g - 1) % @schools) * 4 + 1 + floor(pg_temp.draw(g, 20) * 4)::int AS term_id,
           pg_temp.draw(g, 21) AS teacher_draw,
           (ARRAY['Algebra I', 'Algebra II', 'Geometry', 'Calculus', 'Biology', 'Chemistry', 'Physics', 'World History',
                  'U.S. History', 'English Literature', 'Creative Writing', 'Spanish', 'French', 'Computer Science',
                  'Art', 'Music', 'Physical Education'])[1 + floor(pg_temp.draw(g, 22) * 17)::int] AS subject,
           -- One class in ten has no fixed room.
           CASE WHEN pg_temp.draw(g, 23) >= 0.1
                THEN format('%s-%s', chr(65 + floor(pg_temp.draw(g, 24) * 4)::int), 100 + floor(pg_temp.draw(g, 25) * 250)::int)
           END AS room
    FROM generate_series(1, @classes) AS g
)
INSERT INTO classes (id, term_id, teacher_id, subject, name, room, created_at)
SELECT p.id, p.term_id, t.id, p.subject, format('%s, section %s', p.subject, p.id), p.room, term.starts_on - interval '3 weeks'
FROM picks p
JOIN teacher_counts c ON c.school_id = p.school_id
JOIN teachers t ON t.school_id = p.school_id AND t.slot = 1 + floor(p.teacher_draw * c.teachers)
JOIN terms term ON term.id = p.term_id
ORDER BY p.id
