-- A chat message is also its saga: state moves PENDING_UNREAD -> UNREAD -> PENDING_READ -> READ
-- as counters confirms each step (docs/saga.md has every transition).
CREATE TABLE messages (
    id               uuid PRIMARY KEY,          -- UUIDv7: ordering by id orders by time
    author_id        uuid NOT NULL,
    recipient_id     uuid NOT NULL,
    text             text NOT NULL,
    state            text NOT NULL DEFAULT 'PENDING_UNREAD'
                     CHECK (state IN ('PENDING_UNREAD', 'UNREAD', 'PENDING_READ', 'READ')),
    event_id         uuid NOT NULL,             -- the saga event in flight (or last applied) for it
    read_requested   boolean NOT NULL DEFAULT false,  -- read while still PENDING_UNREAD
    created_at       timestamptz NOT NULL DEFAULT now(),
    read_at          timestamptz,
    state_changed_at timestamptz NOT NULL DEFAULT now(),
    CHECK (author_id <> recipient_id)
);

-- A dialog is the unordered pair; this serves listing and paging back through history.
CREATE INDEX messages_dialog_idx
    ON messages (LEAST(author_id, recipient_id), GREATEST(author_id, recipient_id), id);
-- Marking as read touches only the reader's incoming messages that are not read yet.
CREATE INDEX messages_incoming_idx ON messages (recipient_id, author_id)
    WHERE state IN ('PENDING_UNREAD', 'UNREAD');
-- Replies and the sweeper find sagas by their event.
CREATE INDEX messages_event_idx ON messages (event_id);
-- The sweeper and the invariant checker look only at sagas in flight.
CREATE INDEX messages_pending_idx ON messages (state_changed_at)
    WHERE state IN ('PENDING_UNREAD', 'PENDING_READ');
