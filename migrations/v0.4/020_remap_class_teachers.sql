-- classes is small, so its reference to users is remapped in place. Dropping the old column drops its
-- foreign key and index with it: the index comes back here, the foreign key in 050 once users.id is the UUID.
ALTER TABLE classes ADD COLUMN teacher_uuid uuid;

UPDATE classes c SET teacher_uuid = u.uuid FROM users u WHERE u.id = c.teacher_id;

ALTER TABLE classes DROP COLUMN teacher_id;
ALTER TABLE classes RENAME COLUMN teacher_uuid TO teacher_id;
ALTER TABLE classes ALTER COLUMN teacher_id SET NOT NULL;
CREATE INDEX classes_teacher_id_idx ON classes (teacher_id);
