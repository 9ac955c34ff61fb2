-- Argon2id PHC strings only ($argon2id$v=19$m=...,t=...,p=...$salt$hash, unpadded base64): anything else is
-- a hash the application cannot verify, or not a hash at all. Any cost passes: tests hash cheaply.
SELECT id, legacy_id
FROM users
WHERE password_hash !~ '^\$argon2id\$v=19\$m=[0-9]+,t=[0-9]+,p=[0-9]+\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$'
