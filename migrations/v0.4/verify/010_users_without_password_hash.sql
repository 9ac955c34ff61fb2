-- Every user must be able to log in after the upgrade.
SELECT id, legacy_id FROM users WHERE password_hash IS NULL
