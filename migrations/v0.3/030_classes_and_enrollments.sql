CREATE TABLE classes (
    id         serial PRIMARY KEY,
    term_id    integer NOT NULL REFERENCES terms (id),
    -- Only teachers teach; the application enforces it (a foreign key cannot see the role).
    teacher_id integer NOT NULL REFERENCES users (id),
    subject    text NOT NULL,
    name       text NOT NULL,
    room       text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX classes_term_id_idx ON classes (term_id);
CREATE INDEX classes_teacher_id_idx ON classes (teacher_id);

CREATE TABLE enrollments (
    id          serial PRIMARY KEY,
    class_id    integer NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    -- Only students enroll; enforced by the application, like classes.teacher_id.
    student_id  integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    enrolled_at timestamptz NOT NULL DEFAULT now(),
    -- Null until the term is graded.
    final_grade numeric(5, 2),
    -- Also serves as the index on class_id.
    CONSTRAINT enrollments_class_id_student_id_key UNIQUE (class_id, student_id),
    CONSTRAINT enrollments_final_grade_check CHECK (final_grade BETWEEN 0 AND 100)
);

CREATE INDEX enrollments_student_id_idx ON enrollments (student_id);

-- The teachers' class list; it reads users columns, so changing those columns means recreating it.
CREATE VIEW class_rosters AS
SELECT c.id AS class_id, c.name AS class_name, t.name AS term_name,
       s.id AS student_id, s.first_name, s.last_name, s.email, e.final_grade
FROM enrollments e
JOIN classes c ON c.id = e.class_id
JOIN terms t ON t.id = c.term_id
JOIN users s ON s.id = e.student_id;
