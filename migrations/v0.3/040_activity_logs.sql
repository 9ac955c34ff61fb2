-- The biggest table: every login, page view and submission, kept for reporting.
CREATE TABLE activity_logs (
    id          bigserial PRIMARY KEY,
    user_id     integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    action      text NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    details     jsonb,
    CONSTRAINT activity_logs_action_check
        CHECK (action IN ('login', 'logout', 'view_class', 'submit_work', 'grade_work', 'update_profile'))
);

CREATE INDEX activity_logs_user_id_occurred_at_idx ON activity_logs (user_id, occurred_at);
-- Rows arrive in time order, so a BRIN index serves the reports' time ranges at a fraction of a B-tree's size.
CREATE INDEX activity_logs_occurred_at_idx ON activity_logs USING brin (occurred_at);
