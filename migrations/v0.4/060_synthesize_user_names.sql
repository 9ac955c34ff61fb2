-- v0.4 shows a display name and logs users in by username; both are made from the names v0.3 stored.
-- Set-based SQL rather than a C# step: the whole rule, duplicates included, is one UPDATE.
ALTER TABLE users ADD COLUMN display_name text, ADD COLUMN username text;

-- Folds a name to lower-case ASCII letters ("Bảo Hoàng" -> "baohoang", "O'Brien" -> "obrien"): normalize()
-- (PostgreSQL 13+, UTF-8 databases) splits accents off their letters, the letters that do not decompose get their
-- customary spelling, and lower() runs last because under the C locale it only knows ASCII.
CREATE FUNCTION pg_temp.ascii_letters(name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT lower(regexp_replace(
        translate(replace(replace(replace(replace(replace(replace(replace(normalize(name, NFD),
            'ß', 'ss'), 'Æ', 'Ae'), 'æ', 'ae'), 'Œ', 'Oe'), 'œ', 'oe'), 'Þ', 'Th'), 'þ', 'th'),
            'ØøŁłĐđÐðı', 'OoLlDdDdi'),
        '[^A-Za-z]', '', 'g'))
$$;

-- first.last, or whichever part has letters, or "user". The oldest account keeps the plain name; later ones get
-- 2, 3, ... appended. A base never contains a digit, so a numbered name cannot equal another base.
WITH bases AS (
    SELECT id, legacy_id,
           coalesce(nullif(concat_ws('.', nullif(pg_temp.ascii_letters(first_name), ''), nullif(pg_temp.ascii_letters(last_name), '')), ''), 'user') AS base
    FROM users
), numbered AS (
    SELECT id, base, row_number() OVER (PARTITION BY base ORDER BY legacy_id) AS duplicate
    FROM bases
)
UPDATE users u
SET display_name = btrim(regexp_replace(u.first_name || ' ' || u.last_name, '\s+', ' ', 'g')),
    username = CASE WHEN n.duplicate = 1 THEN n.base ELSE n.base || n.duplicate END
FROM numbered n
WHERE n.id = u.id;

ALTER TABLE users
    ALTER COLUMN display_name SET NOT NULL,
    ALTER COLUMN username SET NOT NULL,
    ADD CONSTRAINT users_username_key UNIQUE (username),
    ADD CONSTRAINT users_username_check CHECK (username ~ '^[a-z]+(\.[a-z]+)?[0-9]*$');
