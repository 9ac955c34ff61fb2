-- The v0.4 feature: teachers post assignments with due dates to their classes.
CREATE TABLE assignments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    class_id    integer NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
    created_by  uuid NOT NULL REFERENCES users (id),
    title       text NOT NULL,
    description text,
    due_at      timestamptz NOT NULL,
    max_points  numeric(6, 2) NOT NULL DEFAULT 100,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT assignments_title_check CHECK (btrim(title) <> ''),
    CONSTRAINT assignments_max_points_check CHECK (max_points > 0)
);

-- A class's assignments by due date is the API's main listing.
CREATE INDEX assignments_class_id_due_at_idx ON assignments (class_id, due_at);
CREATE INDEX assignments_created_by_idx ON assignments (created_by);
