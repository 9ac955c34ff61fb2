-- Users get UUID keys: ids that the API, imports and other services can make without asking the database, and
-- that do not give away how many users there are. The integer id stays as legacy_id (see migrations/README.md).
-- A volatile default makes PostgreSQL rewrite the table once, giving every existing user a UUID of its own.
ALTER TABLE users ADD COLUMN uuid uuid NOT NULL DEFAULT gen_random_uuid();
