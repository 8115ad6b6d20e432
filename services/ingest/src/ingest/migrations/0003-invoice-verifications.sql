-- 查验 (财会〔2020〕6号 三(一)): each invoice received, the tax platform's latest answer about it,
-- and, while it has not answered, when to ask again. One row per document and invoice booked.
CREATE TABLE invoice_verifications (
    document_id uuid NOT NULL,
    booking_key text NOT NULL,
    fonds_code text NOT NULL,
    query jsonb NOT NULL,          -- what the platform is asked: number, code, date, total, seller
    status text NOT NULL,          -- 正常, 作废, 红冲, 查无此票, 不一致, 其他; 未查验 until it answers
    detail text NOT NULL,
    provider text NOT NULL,
    checked_at timestamptz NOT NULL,
    attempts integer NOT NULL CHECK (attempts >= 1),
    next_at timestamptz,           -- null once answered
    PRIMARY KEY (document_id, booking_key)
);
CREATE INDEX invoice_verifications_due ON invoice_verifications (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX invoice_verifications_fonds ON invoice_verifications (fonds_code, checked_at DESC);
CREATE INDEX invoice_verifications_latest ON invoice_verifications (checked_at DESC);
CALL grant_runtime('SELECT, INSERT, UPDATE', 'invoice_verifications');
