-- Marking a backlog read takes it a chunk (one decrement event) at a time, each chunk starting after
-- the last one's ids. With the id in the index a chunk starts where the last one ended; without it
-- every chunk read all the dialog's unread entries again, those already marked included
-- (docs/performance.md, item 34).
DROP INDEX messages_incoming_idx;
CREATE INDEX messages_incoming_idx ON messages (recipient_id, author_id, id)
    WHERE state IN ('PENDING_UNREAD', 'UNREAD');
