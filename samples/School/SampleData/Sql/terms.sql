-- Four semesters per school. Term ids follow (school, semester), so classes.sql computes them instead of looking them up.
INSERT INTO terms (id, school_id, name, starts_on, ends_on)
SELECT (s.id - 1) * 4 + semester.number, s.id, semester.name, semester.starts_on, semester.ends_on
FROM schools s
CROSS JOIN (VALUES (1, 'Fall 2024', DATE '2024-08-26', DATE '2024-12-20'),
                   (2, 'Spring 2025', DATE '2025-01-13', DATE '2025-05-30'),
                   (3, 'Fall 2025', DATE '2025-08-25', DATE '2025-12-19'),
                   (4, 'Spring 2026', DATE '2026-01-12', DATE '2026-05-29')) AS semester (number, name, starts_on, ends_on)
ORDER BY 1
