-- Events the broker refused for themselves (too large, say), set aside by the relay with the
-- reason, so that one never holds up the events after it; counted for /readyz and /metrics
-- (aap_outbox_refused), for the system administrator.
CREATE TABLE outbox_refused (
    position bigint PRIMARY KEY,
    event_id uuid NOT NULL,
    event_type text NOT NULL,
    topic text NOT NULL,
    key bytea NOT NULL,
    body bytea NOT NULL,
    correlation_id text,
    reason text NOT NULL,
    refused_at timestamptz NOT NULL DEFAULT now()
);
CALL grant_runtime('SELECT, INSERT', 'outbox_refused');
