-- Runs after the C# step (numbered after it), once every row has its slug. The checks before the fence
-- lint each script with squawk; a finding that is safe here is acknowledged with its reason:
-- deploy:allow adding-not-nullable-field because notes is created by this same version, so the scan is of two rows
ALTER TABLE notes ALTER COLUMN slug SET NOT NULL;
