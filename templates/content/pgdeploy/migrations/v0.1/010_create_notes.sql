-- The first version's schema. Scripts run in the order of their numbers, in the upgrade's transaction;
-- ./build.sh Plan --version 0.1 shows what would run and what the checks before the fence say.
CREATE TABLE notes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title      text NOT NULL,
    slug       text,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO notes (title) VALUES ('Hello, PostgreSQL'), ('Upgrades without losing a row');
