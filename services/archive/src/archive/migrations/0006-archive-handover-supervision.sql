-- The 监交人 of a handover offer (第二十四条): named by the 移交人, confirmed with their own
-- sign-in before the archive department accepts; NULL on an offer made before.
ALTER TABLE handover_offers ADD COLUMN supervised_by text;
ALTER TABLE handover_offers ADD COLUMN supervised_at timestamptz;
