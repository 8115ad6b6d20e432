-- The accepted event goes through the servicekit outbox now, in the transaction that takes the
-- voucher's key and books its invoices: a key is never taken but not booked or not announced,
-- and nothing taken or booked is ever given back, so the runtime role only adds.
DROP INDEX voucher_keys_unpublished;
ALTER TABLE voucher_keys DROP COLUMN published, DROP COLUMN booked;
DO $$
BEGIN
    EXECUTE format('REVOKE UPDATE, DELETE ON voucher_keys, invoice_bookings FROM %I',
                   current_setting('aap.runtime_role'));
END
$$;
