-- Users with the same password must still have different hashes: a shared hash means a salt was reused.
SELECT min(legacy_id) AS first_legacy_id, count(*) AS users
FROM users
GROUP BY password_hash
HAVING count(*) > 1
