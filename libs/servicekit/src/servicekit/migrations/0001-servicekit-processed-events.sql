-- Each consumer's handled event ids (servicekit.idempotency): a redelivery is a no-op.
CREATE TABLE processed_events (
    consumer text NOT NULL,
    event_id text NOT NULL,
    type text NOT NULL,
    handled_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX processed_events_handled_at ON processed_events (handled_at);
CALL grant_runtime('SELECT, INSERT, DELETE', 'processed_events');
