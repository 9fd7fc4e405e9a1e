#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pg/connection.hpp"

namespace backend {

/// The friends table (user_id follows friend_id) and the users.followers counter. Functions run
/// inside the caller's transaction (handlers) or on the caller's own connection (the fan-out).
namespace friends {

/// Follows; true when the row is new (the follower count moved). An unknown friend throws
/// HttpError 404.
[[nodiscard]] bool Add(sn::pg::Connection& conn, const std::string& user_id, const std::string& friend_id);
/// Unfollows; true when a row went away. An unknown friend throws HttpError 404.
[[nodiscard]] bool Remove(sn::pg::Connection& conn, const std::string& user_id, const std::string& friend_id);
/// Who follows the author.
[[nodiscard]] std::vector<std::string> Followers(sn::pg::Connection& conn, const std::string& author_id);
[[nodiscard]] std::int64_t FollowerCount(sn::pg::Connection& conn, const std::string& author_id);
/// The authors the user follows that have more than `threshold` followers.
[[nodiscard]] std::vector<std::string> FollowedCelebrities(sn::pg::Connection& conn, const std::string& user_id,
                                                           std::int64_t threshold);

}  // namespace friends
}  // namespace backend
