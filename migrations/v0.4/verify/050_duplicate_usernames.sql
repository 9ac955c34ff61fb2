-- Usernames log users in, so two users must never share one, whatever the case.
SELECT min(legacy_id) AS first_legacy_id, count(*) AS users
FROM users
GROUP BY lower(username)
HAVING count(*) > 1
