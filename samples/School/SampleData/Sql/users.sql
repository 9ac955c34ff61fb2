-- The v0.3 application made e-mail addresses from the initial and last name, folded to ASCII letters, plus the
-- user id. normalize() (PostgreSQL 13+, UTF-8 databases) splits accents off their letters; the letters that do
-- not decompose get their customary spelling; lower() runs last because it only knows ASCII under the C locale.
CREATE FUNCTION pg_temp.ascii_letters(name text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(regexp_replace(
        translate(replace(replace(replace(replace(replace(replace(replace(normalize(name, NFD),
            'ß', 'ss'), 'Æ', 'Ae'), 'æ', 'ae'), 'Œ', 'Oe'), 'œ', 'oe'), 'Þ', 'Th'), 'þ', 'th'),
            'ØøŁłĐđÐðı', 'OoLlDdDdi'),
        '[^A-Za-z]', '', 'g'))
$$;

INSERT INTO users (id, school_id, role, email, first_name, last_name, password, created_at)
SELECT p.id, p.school_id, p.role,
       left(pg_temp.ascii_letters(p.first_name), 1) || pg_temp.ascii_letters(p.last_name) || p.id || '@' || s.email_domain,
       p.first_name, p.last_name, p.password, p.created_at
FROM people p
JOIN schools s ON s.id = p.school_id
ORDER BY p.id
