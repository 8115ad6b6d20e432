-- A correction is a voucher of its own (会计基础工作规范 第五十一条(五)): the record it corrects
-- is kept with it, and the corrections of a record are found from it (drill-through, registers).
ALTER TABLE records ADD COLUMN corrects uuid;
CREATE INDEX records_corrections ON records (corrects) WHERE corrects IS NOT NULL;
