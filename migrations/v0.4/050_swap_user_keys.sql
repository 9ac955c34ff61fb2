-- Nothing references users.id any more (020 to 040 moved every reference to users.uuid), so the two keys
-- change places. legacy_id keeps its sequence, so users created from now on get one too.
ALTER TABLE users DROP CONSTRAINT users_pkey;
ALTER TABLE users RENAME COLUMN id TO legacy_id;
ALTER TABLE users RENAME COLUMN uuid TO id;
ALTER SEQUENCE users_id_seq RENAME TO users_legacy_id_seq;
ALTER TABLE users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id),
    ADD CONSTRAINT users_legacy_id_key UNIQUE (legacy_id);

ALTER TABLE classes ADD CONSTRAINT classes_teacher_id_fkey FOREIGN KEY (teacher_id) REFERENCES users (id);
ALTER TABLE enrollments ADD CONSTRAINT enrollments_student_id_fkey FOREIGN KEY (student_id) REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE activity_logs ADD CONSTRAINT activity_logs_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
