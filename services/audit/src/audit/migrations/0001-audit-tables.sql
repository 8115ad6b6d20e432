-- Audit's own tables: the entries of the log, append-only, and the hashes of the Merkle tree's
-- complete subtrees (which verify never trusts: it recomputes them from the entries).

CREATE TABLE entries (
    seq bigint PRIMARY KEY,  -- two writers cannot fork the chain
    event_id text NOT NULL UNIQUE,  -- an event is recorded once
    event_type text NOT NULL,
    actor text,
    time text NOT NULL,  -- the event's time as the entry holds it (ISO 8601, UTC)
    record_ids text[] NOT NULL,
    fonds_codes text[] NOT NULL,
    data jsonb NOT NULL,  -- a copy of the entry's data, to query by
    entry text NOT NULL  -- the entry exactly as hashed (JSON)
);
CREATE INDEX entries_record_ids ON entries USING gin (record_ids);
CREATE INDEX entries_fonds_codes ON entries USING gin (fonds_codes);
CREATE INDEX entries_actor ON entries (actor, seq);
CREATE INDEX entries_event_type ON entries (event_type, seq);

-- The runtime role appends and reads; nothing else. The triggers are a second wall, for
-- whoever else can write here (the owner, a superuser by mistake): an entry never changes.
CALL grant_runtime('SELECT, INSERT', 'entries');

CREATE FUNCTION entries_are_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER entries_never_change BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION entries_are_append_only();
CREATE TRIGGER entries_never_truncated BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION entries_are_append_only();

CREATE TABLE tree_nodes (
    level integer NOT NULL,
    index bigint NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (level, index)
);
CALL grant_runtime('SELECT, INSERT', 'tree_nodes');
