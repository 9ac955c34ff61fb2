-- Every user has a username in the synthesized form and a tidy display name.
SELECT id, legacy_id
FROM users
WHERE username !~ '^[a-z]+(\.[a-z]+)?[0-9]*$'
   OR display_name = ''
   OR display_name <> btrim(display_name)
   OR display_name ~ '\s\s'
