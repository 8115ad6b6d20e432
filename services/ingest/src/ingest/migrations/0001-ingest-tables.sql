-- Ingest's own tables: every upload with its outcome, the vouchers taken under their natural
-- key (with the accepted event until it is published), and the invoices booked (重复入账).

CREATE TABLE submissions (
    submission_id uuid PRIMARY KEY,
    status text NOT NULL,
    submitted_at timestamptz NOT NULL,
    submitted_by text NOT NULL,
    details jsonb NOT NULL
);
CREATE INDEX submissions_submitted_at ON submissions (submitted_at);
CALL grant_runtime('SELECT, INSERT', 'submissions');

CREATE TABLE voucher_keys (
    key text PRIMARY KEY,
    document_id uuid NOT NULL,
    fingerprint text NOT NULL,
    event text NOT NULL,
    published boolean NOT NULL DEFAULT false,
    booked boolean NOT NULL DEFAULT false,
    taken_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX voucher_keys_unpublished ON voucher_keys (taken_at) WHERE NOT published;
CALL grant_runtime('SELECT, INSERT, UPDATE, DELETE', 'voucher_keys');

CREATE TABLE invoice_bookings (
    key text PRIMARY KEY,
    document_id uuid NOT NULL,
    fonds_code text,
    booked_at timestamptz NOT NULL DEFAULT now()
);
CALL grant_runtime('SELECT, INSERT, DELETE', 'invoice_bookings');
