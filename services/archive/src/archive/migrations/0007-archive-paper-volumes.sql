-- The register of paper archives (纸质会计档案登记): each paper volume kept beside the
-- electronic records, where it is, and which records it relates to (第八条(三): the retrieval
-- link between electronic records and related paper archives; (六): the paper copies of 永久
-- records). Appended to, never changed.
CREATE TABLE paper_volumes (
    volume_id uuid PRIMARY KEY,
    fonds_code text NOT NULL,
    fiscal_year integer NOT NULL,
    title text NOT NULL,
    location text NOT NULL,
    record_ids uuid[] NOT NULL,
    registered_by text NOT NULL,
    registered_at timestamptz NOT NULL
);
CREATE INDEX paper_volumes_records ON paper_volumes USING gin (record_ids);  -- a record's drill
CALL grant_runtime('SELECT, INSERT', 'paper_volumes');
