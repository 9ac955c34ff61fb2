-- Each student draws about @per_student classes of their own school; DISTINCT drops a class drawn twice,
-- so there are a little fewer enrollments than asked for. Terms that ended before the data's
-- "today" (2026-02-01) are graded. Ids follow (class, student), the order of the unique constraint, so that
-- its index grows at the end like the primary key's.
WITH class_slots AS (
    SELECT t.school_id, c.id AS class_id, row_number() OVER (PARTITION BY t.school_id ORDER BY c.id) AS slot
    FROM classes c JOIN terms t ON t.id = c.term_id
), class_counts AS (
    SELECT school_id, count(*) AS classes FROM class_slots GROUP BY school_id
), draws AS MATERIALIZED (
    -- Materialized so that the join below hashes the drawn slot, instead of testing each draw against every class of the school.
    SELECT s.id AS student_id, s.school_id,
           1 + floor(pg_temp.draw(s.id::bigint * 1000 + draw, 31) * counts.classes)::bigint AS slot
    FROM users s
    JOIN class_counts counts ON counts.school_id = s.school_id
    CROSS JOIN LATERAL generate_series(1, floor(@per_student + pg_temp.draw(s.id, 30))::int) AS draw
    WHERE s.role = 'student'
), picks AS (
    SELECT DISTINCT d.student_id, slot.class_id
    FROM draws d
    JOIN class_slots slot ON slot.school_id = d.school_id AND slot.slot = d.slot
)
INSERT INTO enrollments (id, class_id, student_id, enrolled_at, final_grade)
SELECT row_number() OVER (ORDER BY p.class_id, p.student_id),
       p.class_id, p.student_id,
       term.starts_on - interval '4 weeks' + pg_temp.draw(p.student_id::bigint * 100000 + p.class_id, 32) * interval '4 weeks',
       CASE WHEN term.ends_on < DATE '2026-02-01'
            THEN round((40 + 60 * pg_temp.draw(p.student_id::bigint * 100000 + p.class_id, 33))::numeric, 2)
       END
FROM picks p
JOIN classes c ON c.id = p.class_id
JOIN terms term ON term.id = c.term_id
ORDER BY 1
