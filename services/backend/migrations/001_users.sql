CREATE TABLE users (
    id            uuid PRIMARY KEY,
    first_name    text NOT NULL,
    second_name   text NOT NULL,
    birthdate     date NOT NULL,
    biography     text NOT NULL DEFAULT '',
    city          text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- /user/search is a prefix match on both names: text_pattern_ops lets a btree serve the
-- range `first_name ~>=~ $1 AND first_name ~<~ $1 || U+10FFFF` whatever the database collation.
CREATE INDEX users_name_prefix_idx ON users (first_name text_pattern_ops, second_name text_pattern_ops);
