CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

-- As the original description gives it, names included (`recepient_id` is spelled so there).
CREATE TABLE IF NOT EXISTS unread_messages (
    id UUID DEFAULT uuid_generate_v4(),
    author_id UUID NOT NULL,
    recepient_id UUID NOT NULL,
    count INTEGER DEFAULT 1 NOT NULL,
    PRIMARY KEY(author_id, recepient_id)
);

-- A counter never goes below zero, whatever writes it.
ALTER TABLE unread_messages ADD CONSTRAINT unread_messages_count_not_negative CHECK (count >= 0);

-- "How many unread do I have, and from whom": by recipient, answered from the index alone.
CREATE INDEX unread_messages_recepient_idx ON unread_messages (recepient_id, author_id) INCLUDE (count);
