-- A correction archived before the voucher it names (the original still on its way): it waits,
-- under the name it gives (the voucher's key, or "code:" and a 档号), and is linked once that
-- voucher is archived (CorrectionLinked); the record as read then carries the link.
CREATE TABLE corrections_waiting (
    key text NOT NULL,
    fonds_code text NOT NULL,
    record_id uuid NOT NULL,  -- the correction
    kind text NOT NULL,  -- 注销, 订正, 调整, 更正
    PRIMARY KEY (key, record_id)
);
CREATE INDEX corrections_waiting_record ON corrections_waiting (record_id);  -- no longer waits
CALL grant_runtime('SELECT, INSERT, DELETE', 'corrections_waiting');

ALTER TABLE records ADD COLUMN corrects_link jsonb;  -- the link made after accession
