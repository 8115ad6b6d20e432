-- Permission's own tables: role assignments (with the changes still to announce), borrowing
-- grants, and each archived record's fonds (learned from RecordArchived).

CREATE TABLE role_assignments (
    principal text NOT NULL,
    role text NOT NULL,
    fonds_code text NOT NULL,
    held boolean NOT NULL,
    PRIMARY KEY (principal, role, fonds_code)
);
CREATE INDEX role_assignments_held ON role_assignments (principal) WHERE held;
CALL grant_runtime('SELECT, INSERT, UPDATE', 'role_assignments');

-- A change and the event announcing it are written in one transaction; the row goes once the
-- event is published.
CREATE TABLE role_announcements (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    assignment text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('assigned', 'revoked')),
    event jsonb NOT NULL
);
CALL grant_runtime('SELECT, INSERT, DELETE', 'role_announcements');

CREATE TABLE grants (
    grant_id uuid PRIMARY KEY,
    principal text NOT NULL,
    actions text[] NOT NULL,
    fonds_code text,
    record_ids uuid[] NOT NULL,
    valid_from timestamptz NOT NULL,
    valid_until timestamptz NOT NULL,
    request_id uuid NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX grants_principal ON grants (principal, valid_from DESC);
CREATE INDEX grants_due ON grants (valid_until) WHERE revoked_at IS NULL;
CALL grant_runtime('SELECT, INSERT, UPDATE', 'grants');

CREATE TABLE record_scopes (
    record_id uuid PRIMARY KEY,
    fonds_code text NOT NULL
);
CALL grant_runtime('SELECT, INSERT, UPDATE', 'record_scopes');
