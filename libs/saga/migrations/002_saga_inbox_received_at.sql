-- The inbox forgets events after a retention (INBOX_RETENTION_HOURS): the pruner finds them by
-- the time they were received. Rows arrive in time order, so new keys go to the index's right edge.
CREATE INDEX inbox_received_at_idx ON inbox (received_at);
