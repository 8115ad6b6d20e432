-- Approval's own tables: borrowing requests and their numbered changes, the OA instances they
-- run as (with the OA's events and trail), the starts to retry, callback nonces seen, and what
-- it learned of archived records (their titles and fonds, from RecordArchived).

CREATE TABLE borrowing_requests (
    request_id uuid PRIMARY KEY,
    applicant text NOT NULL,
    fonds_code text NOT NULL,
    oa_connection text NOT NULL,
    record_ids uuid[] NOT NULL,
    reason text NOT NULL,
    days integer NOT NULL,
    requested_at timestamptz NOT NULL,
    oa_instance_id text,
    oa_unreachable text,
    open boolean NOT NULL DEFAULT true  -- not decided yet: for the expiry sweep
);
CREATE INDEX borrowing_requests_open ON borrowing_requests (requested_at) WHERE open;
CALL grant_runtime('SELECT, INSERT, UPDATE', 'borrowing_requests');

-- A request's n-th change: of two deliveries making the n-th at once, the key lets one in.
CREATE TABLE request_changes (
    request_id uuid NOT NULL REFERENCES borrowing_requests,
    n integer NOT NULL,
    oa_connection text NOT NULL,
    outcome text NOT NULL,
    approver text,
    comment text,
    oa_instance_id text,
    decided_at timestamptz NOT NULL,
    trail jsonb NOT NULL,
    PRIMARY KEY (request_id, n)
);
CALL grant_runtime('SELECT, INSERT', 'request_changes');

CREATE TABLE oa_instances (
    connection text NOT NULL,
    instance text NOT NULL,
    request_id uuid NOT NULL,
    events text[] NOT NULL DEFAULT '{}',
    trail jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (connection, instance)
);
CALL grant_runtime('SELECT, INSERT, UPDATE', 'oa_instances');

CREATE TABLE oa_starts (
    request_id uuid PRIMARY KEY,
    attempts integer NOT NULL,
    retry_at timestamptz NOT NULL
);
CREATE INDEX oa_starts_retry_at ON oa_starts (retry_at);
CALL grant_runtime('SELECT, INSERT, UPDATE, DELETE', 'oa_starts');

CREATE TABLE callback_nonces (
    nonce text PRIMARY KEY,
    seen_at timestamptz NOT NULL
);
CREATE INDEX callback_nonces_seen_at ON callback_nonces (seen_at);
CALL grant_runtime('SELECT, INSERT, DELETE', 'callback_nonces');

CREATE TABLE record_titles (
    record_id uuid PRIMARY KEY,
    title text NOT NULL,
    fonds_code text NOT NULL
);
CALL grant_runtime('SELECT, INSERT, UPDATE', 'record_titles');
