-- Shared by dialogs and counters (libs/saga): the transactional outbox and the inbox.

-- Events written in the same transaction as the change they announce; the relay publishes them
-- with publisher confirms and deletes them only after the broker confirmed.
CREATE TABLE outbox (
    id             bigserial PRIMARY KEY,
    event_id       uuid NOT NULL UNIQUE,
    exchange       text NOT NULL,
    routing_key    text NOT NULL,
    correlation_id text NOT NULL,
    request_id     text NOT NULL DEFAULT '',
    payload        text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Wakes the relays at commit; they also poll, so a lost notification only delays.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Events already applied, so that a redelivered or re-published one is not applied twice.
CREATE TABLE inbox (
    event_id    uuid PRIMARY KEY,
    outcome     text NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL DEFAULT now()
);
