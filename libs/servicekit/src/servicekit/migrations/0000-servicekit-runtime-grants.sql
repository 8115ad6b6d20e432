-- How each migration grants the service's runtime role what it may do with a table: the role
-- is named by the database's own setting aap.runtime_role (set when the database is made), so
-- that the files name no namespace. The privileges and tables are constants of the files.
CREATE PROCEDURE grant_runtime(privileges text, tables text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('GRANT %s ON %s TO %I', privileges, tables, current_setting('aap.runtime_role'));
END
$$;
REVOKE ALL ON PROCEDURE grant_runtime(text, text) FROM PUBLIC;
