-- A complete year (齐全完整): each record's months and bank account, each voucher's bank accounts,
-- so that GET /v1/completeness reads a year without its events; and the gaps archivists waived.
ALTER TABLE records ADD COLUMN period_from integer;  -- a material's first month (period: its last)
ALTER TABLE records ADD COLUMN bank_account text;  -- a bank statement's or reconciliation's account
ALTER TABLE records ADD COLUMN bank_accounts jsonb;  -- a voucher's 银行存款 accounts [{code, name}]

-- A gap waived once, by an archivist with a reason (GapWaived): listed in the 移交清册.
CREATE TABLE gap_waivers (
    fonds_code text NOT NULL,
    fiscal_year integer NOT NULL,
    gap text NOT NULL,
    event text NOT NULL,  -- the GapWaived fact, exactly
    PRIMARY KEY (fonds_code, fiscal_year, gap)
);
CALL grant_runtime('SELECT, INSERT', 'gap_waivers');

-- A fixed-asset card's disposal recorded after it was archived (AssetDisposalRecorded): its
-- retention counted from then; the record as read carries it (the event as archived does not).
ALTER TABLE records ADD COLUMN disposed_on date;
