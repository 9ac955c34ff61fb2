-- The old integer ids stay, for the systems that still use them.
SELECT id FROM users WHERE legacy_id IS NULL
