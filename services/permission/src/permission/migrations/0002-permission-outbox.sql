-- Role changes are announced through the servicekit outbox now, in the transaction of the
-- change. A change the previous version kept but had not announced yet would be lost with its
-- table: the migration refuses until that version has run once more and announced it.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM role_announcements) THEN
        RAISE EXCEPTION 'role changes not announced yet: start the previous permission service '
            'once (it announces them), then migrate';
    END IF;
END
$$;
DROP TABLE role_announcements;
