-- The service counts what its relay set aside, for /readyz and /metrics (aap_outbox_refused).
CALL grant_runtime('SELECT', 'outbox_refused');
