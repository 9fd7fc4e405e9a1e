-- Friendship is one-way: user_id follows friend_id and sees friend_id's posts in the feed.
CREATE TABLE friends (
    user_id    uuid NOT NULL REFERENCES users (id),
    friend_id  uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, friend_id),
    CHECK (user_id <> friend_id)
);
-- Fan-out asks "who follows this author".
CREATE INDEX friends_friend_idx ON friends (friend_id, user_id);

-- Followers per user, kept in the friend change's transaction, so that "is this author a
-- celebrity" is one row read instead of a count over the friends table.
ALTER TABLE users ADD COLUMN followers integer NOT NULL DEFAULT 0 CHECK (followers >= 0);

CREATE TABLE posts (
    id         uuid PRIMARY KEY,
    author_id  uuid NOT NULL REFERENCES users (id),
    text       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- Newest first per author: the feed query walks it for each followed author.
CREATE INDEX posts_author_created_idx ON posts (author_id, created_at DESC, id DESC);
