-- A review's decision is announced through the servicekit outbox now, in the transaction that
-- keeps it. A decision the previous version kept but had not announced yet would be lost with
-- the column: the migration refuses until that version has run once more and announced it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM reviews WHERE NOT published) THEN
        RAISE EXCEPTION 'review decisions not announced yet: start the previous archive service '
            'once (it announces them), then migrate';
    END IF;
END
$$;
DROP INDEX reviews_unpublished;
ALTER TABLE reviews DROP COLUMN published;
DO $$
BEGIN
    EXECUTE format('REVOKE UPDATE ON reviews FROM %I', current_setting('aap.runtime_role'));
END
$$;
