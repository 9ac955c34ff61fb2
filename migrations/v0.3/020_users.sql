-- Passwords are stored in plain text: the flaw that v0.4 fixes.
-- The role is a CHECK, not an enum type, because adding a value to an enum cannot be used in the
-- transaction that adds it, while a CHECK is replaced in one ordinary transaction.
CREATE TABLE users (
    id         serial PRIMARY KEY,
    school_id  integer NOT NULL REFERENCES schools (id),
    role       text NOT NULL,
    email      text NOT NULL,
    first_name text NOT NULL,
    last_name  text NOT NULL,
    password   text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_role_check CHECK (role IN ('student', 'teacher', 'admin')),
    -- Lower case is enforced so that the unique constraint is case-insensitive in effect.
    CONSTRAINT users_email_check CHECK (email = lower(email) AND email LIKE '_%@_%'),
    CONSTRAINT users_email_key UNIQUE (email)
);

CREATE INDEX users_school_id_role_idx ON users (school_id, role);
