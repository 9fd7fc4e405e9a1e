-- Only a saga in flight is ever looked up by its event (the sweeper re-sends stuck events whole):
-- the index keeps those, not an entry for every version of every message ever sent. A message
-- entering UNREAD or READ no longer writes to it (docs/performance.md, item 35).
DROP INDEX messages_event_idx;
CREATE INDEX messages_event_idx ON messages (event_id)
    WHERE state IN ('PENDING_UNREAD', 'PENDING_READ');
