-- The transactional outbox (servicekit.outbox): each event a use case publishes is a row
-- written in the transaction of the state it describes; the relay sends the rows to Kafka in
-- their order and deletes them once the broker has taken them.
CREATE TABLE outbox (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id uuid NOT NULL,
    event_type text NOT NULL,
    topic text NOT NULL,
    key bytea NOT NULL,
    body bytea NOT NULL,
    correlation_id text,
    added_at timestamptz NOT NULL DEFAULT now()
);
CALL grant_runtime('SELECT, INSERT, DELETE', 'outbox');
CALL grant_runtime('USAGE', 'SEQUENCE outbox_position_seq');
