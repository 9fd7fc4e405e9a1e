#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pg/connection.hpp"

namespace backend {

struct Post {
    std::string id;
    std::string author_id;
    std::string text;
    std::int64_t created_us = 0;  // microseconds since the epoch: the feed's sort key (then id)
};

/// The posts table. Functions run on the caller's connection or inside its transaction.
namespace posts {

[[nodiscard]] Post Create(sn::pg::Connection& conn, const std::string& author_id, const std::string& text);
/// The author of a post, locking its row for an update or delete; nullopt when there is none.
[[nodiscard]] std::optional<std::string> LockAuthor(sn::pg::Connection& conn, const std::string& post_id);
void Update(sn::pg::Connection& conn, const std::string& post_id, const std::string& text);
void Delete(sn::pg::Connection& conn, const std::string& post_id);
[[nodiscard]] std::optional<Post> Find(sn::pg::Connection& conn, const std::string& post_id);
/// The posts that still exist among the ids (any order).
[[nodiscard]] std::vector<Post> FindMany(sn::pg::Connection& conn, const std::vector<std::string>& post_ids);
/// The user's feed straight from the tables: posts of followed authors, newest first.
[[nodiscard]] std::vector<Post> Feed(sn::pg::Connection& conn, const std::string& user_id, std::int64_t offset,
                                     std::int64_t limit);
/// The newest `limit` posts of followed authors other than `excluded` (the celebrities).
[[nodiscard]] std::vector<Post> FeedExcept(sn::pg::Connection& conn, const std::string& user_id,
                                           const std::vector<std::string>& excluded, std::int64_t limit);
/// The newest `limit` posts of the given authors.
[[nodiscard]] std::vector<Post> ByAuthors(sn::pg::Connection& conn, const std::vector<std::string>& author_ids,
                                          std::int64_t limit);

}  // namespace posts
}  // namespace backend
