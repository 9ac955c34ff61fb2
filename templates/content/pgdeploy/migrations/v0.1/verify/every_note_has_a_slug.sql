-- Verify runs this inside the upgrade's transaction before committing: any row it returns fails the deployment.
SELECT id, title FROM notes WHERE slug = ''
