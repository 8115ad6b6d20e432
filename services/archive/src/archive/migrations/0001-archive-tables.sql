-- Archive's own tables: records (the fact as archived, with what numbering, custody, review,
-- holds and appraisal query by), archive-code sequences, voucher keys, handovers and volumes,
-- legal-hold changes, review decisions, and OA approval records with their links.

CREATE TABLE records (
    record_id uuid PRIMARY KEY,
    archive_code text NOT NULL UNIQUE,
    fonds_code text NOT NULL,
    fiscal_year integer NOT NULL,
    period integer,
    voucher_no text,
    category text NOT NULL,
    archived_at timestamptz NOT NULL,
    retention_until date,  -- none: kept permanently (永久)
    review_required boolean NOT NULL,
    versions jsonb NOT NULL,  -- per original's object key, the version locked at archiving
    legal_hold jsonb,
    custody text NOT NULL DEFAULT 'accounting',  -- 临时保管 until handed over (第十一条)
    handover_id uuid,
    awaiting_review boolean NOT NULL,
    review jsonb,
    approvals jsonb NOT NULL DEFAULT '[]',
    superseded_by uuid,
    event text NOT NULL  -- the fact as archived, exactly (JSON keeps Decimal and zone)
);
CREATE INDEX records_year ON records (fonds_code, fiscal_year, period);
CREATE INDEX records_retention ON records (fonds_code, retention_until);
CREATE INDEX records_in_accounting ON records (fonds_code, fiscal_year) WHERE custody <> 'archive';
CALL grant_runtime('SELECT, INSERT, UPDATE', 'records');

-- Archive codes are numbered without gaps per scope: the counter row is updated in the same
-- transaction as the claim, and a claim names its holder, so a retry takes its number again.
CREATE TABLE sequences (
    scope text PRIMARY KEY,
    value bigint NOT NULL
);
CALL grant_runtime('SELECT, INSERT, UPDATE', 'sequences');

CREATE TABLE sequence_claims (
    scope text NOT NULL,
    number bigint NOT NULL,
    holder text NOT NULL,
    PRIMARY KEY (scope, number),
    UNIQUE (scope, holder)
);
CALL grant_runtime('SELECT, INSERT', 'sequence_claims');

-- One record per voucher key (contracts.records.voucher_key).
CREATE TABLE voucher_keys (
    key text PRIMARY KEY,
    record_id uuid NOT NULL
);
CALL grant_runtime('SELECT, INSERT', 'voucher_keys');

CREATE TABLE handovers (
    handover_id uuid PRIMARY KEY,
    fonds_code text NOT NULL,
    fiscal_year integer NOT NULL,
    event text NOT NULL,
    volumes jsonb NOT NULL,
    done boolean NOT NULL DEFAULT false
);
CREATE INDEX handovers_unfinished ON handovers (fonds_code, fiscal_year) WHERE NOT done;
CALL grant_runtime('SELECT, INSERT, UPDATE, DELETE', 'handovers');

-- One handover of a fonds and year under way at once: its mark, taken before the records are
-- read; a mark past its lease with no handover kept under it may be taken over.
CREATE TABLE open_handovers (
    fonds_code text NOT NULL,
    fiscal_year integer NOT NULL,
    handover_id uuid NOT NULL,
    taken_at timestamptz NOT NULL,
    PRIMARY KEY (fonds_code, fiscal_year)
);
CALL grant_runtime('SELECT, INSERT, UPDATE, DELETE', 'open_handovers');

-- A record in one handover at most.
CREATE TABLE handover_claims (
    record_id uuid PRIMARY KEY,
    handover_id uuid NOT NULL
);
CALL grant_runtime('SELECT, INSERT, DELETE', 'handover_claims');

CREATE TABLE volumes (
    fonds_code text NOT NULL,
    fiscal_year integer NOT NULL,
    number integer NOT NULL,
    period integer,
    retention_code text NOT NULL,
    record_ids uuid[] NOT NULL,
    handover_id uuid NOT NULL,
    PRIMARY KEY (fonds_code, fiscal_year, number)
);
CALL grant_runtime('SELECT, INSERT', 'volumes');

CREATE TABLE custody_extensions (
    fonds_code text NOT NULL,
    fiscal_year integer NOT NULL,
    extended_years integer NOT NULL,
    consent jsonb NOT NULL,
    PRIMARY KEY (fonds_code, fiscal_year)
);
CALL grant_runtime('SELECT, INSERT, UPDATE', 'custody_extensions');

CREATE TABLE handover_offers (
    offer_id uuid PRIMARY KEY,
    fonds_code text NOT NULL,
    fiscal_year integer NOT NULL,
    offered_by text NOT NULL,
    offered_at timestamptz NOT NULL,
    handover_id uuid
);
-- One open offer per fonds and year.
CREATE UNIQUE INDEX handover_offers_open ON handover_offers (fonds_code, fiscal_year)
    WHERE handover_id IS NULL;
CALL grant_runtime('SELECT, INSERT, UPDATE', 'handover_offers');

-- Each record's legal holds, an append-only log numbered per record: of two changes made at
-- once from one state, the key lets one in.
CREATE TABLE hold_changes (
    record_id uuid NOT NULL,
    n integer NOT NULL,
    hold jsonb,  -- none: released
    PRIMARY KEY (record_id, n)
);
CALL grant_runtime('SELECT, INSERT', 'hold_changes');

-- One review decision per record.
CREATE TABLE reviews (
    record_id uuid PRIMARY KEY,
    event text NOT NULL,
    published boolean NOT NULL DEFAULT false
);
CREATE INDEX reviews_unpublished ON reviews (record_id) WHERE NOT published;
CALL grant_runtime('SELECT, INSERT, UPDATE', 'reviews');

CREATE TABLE approval_records (
    record_id uuid PRIMARY KEY,
    approval text NOT NULL
);
CALL grant_runtime('SELECT, INSERT', 'approval_records');

-- The business keys vouchers and approval records meet by, per side.
CREATE TABLE approval_link_keys (
    key text NOT NULL,
    side text NOT NULL,
    record_id uuid NOT NULL,
    PRIMARY KEY (key, side, record_id)
);
CALL grant_runtime('SELECT, INSERT', 'approval_link_keys');

CREATE TABLE approval_links (
    record_id uuid NOT NULL,
    pair text NOT NULL,
    link jsonb NOT NULL,
    PRIMARY KEY (record_id, pair)
);
CALL grant_runtime('SELECT, INSERT', 'approval_links');

CREATE TABLE awaiting_approval (
    record_id uuid PRIMARY KEY,
    fonds_code text NOT NULL,
    archive_code text NOT NULL,
    voucher_no text,
    summary text,
    since timestamptz NOT NULL
);
CREATE INDEX awaiting_approval_fonds ON awaiting_approval (fonds_code, archive_code);
CALL grant_runtime('SELECT, INSERT, DELETE', 'awaiting_approval');
