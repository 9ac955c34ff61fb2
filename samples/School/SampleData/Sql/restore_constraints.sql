-- Indexes first: validating a foreign key is a join that may use them.
DO $$
DECLARE
    statement text;
BEGIN
    FOR statement IN SELECT restore_statement FROM deferred_definitions ORDER BY pass LOOP
        EXECUTE statement;
    END LOOP;
END
$$
