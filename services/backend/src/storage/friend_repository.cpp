#include "storage/friend_repository.hpp"

#include "http/types.hpp"

namespace backend::friends {
namespace {

// Locks the friend's row: concurrent follows of one author serialise on the counter anyway.
constexpr std::string_view kLockUser = "SELECT 1 FROM users WHERE id = $1 FOR UPDATE";
constexpr std::string_view kInsert =
    "INSERT INTO friends (user_id, friend_id) VALUES ($1, $2) ON CONFLICT (user_id, friend_id) DO NOTHING";
constexpr std::string_view kDelete = "DELETE FROM friends WHERE user_id = $1 AND friend_id = $2";
constexpr std::string_view kAddFollowers = "UPDATE users SET followers = followers + $2 WHERE id = $1";
constexpr std::string_view kSelectFollowers = "SELECT user_id FROM friends WHERE friend_id = $1";
constexpr std::string_view kSelectFollowerCount = "SELECT followers FROM users WHERE id = $1";
constexpr std::string_view kSelectFollowedCelebrities =
    "SELECT f.friend_id FROM friends f JOIN users u ON u.id = f.friend_id "
    "WHERE f.user_id = $1 AND u.followers > $2 ORDER BY f.friend_id";

void LockExisting(sn::pg::Connection& conn, const std::string& friend_id) {
    if (conn.Exec(kLockUser, friend_id).Empty()) {
        throw sn::http::HttpError(sn::http::Status::not_found, "user not found");
    }
}

std::vector<std::string> Column(const sn::pg::Result& rows) {
    std::vector<std::string> values;
    values.reserve(static_cast<std::size_t>(rows.Rows()));
    for (int i = 0; i < rows.Rows(); ++i) {
        values.push_back(rows.String(i, 0));
    }
    return values;
}

}  // namespace

bool Add(sn::pg::Connection& conn, const std::string& user_id, const std::string& friend_id) {
    LockExisting(conn, friend_id);
    if (conn.Exec(kInsert, user_id, friend_id).Affected() == 0) {
        return false;
    }
    (void)conn.Exec(kAddFollowers, friend_id, 1);
    return true;
}

bool Remove(sn::pg::Connection& conn, const std::string& user_id, const std::string& friend_id) {
    LockExisting(conn, friend_id);
    if (conn.Exec(kDelete, user_id, friend_id).Affected() == 0) {
        return false;
    }
    (void)conn.Exec(kAddFollowers, friend_id, -1);
    return true;
}

std::vector<std::string> Followers(sn::pg::Connection& conn, const std::string& author_id) {
    return Column(conn.Exec(kSelectFollowers, author_id));
}

std::int64_t FollowerCount(sn::pg::Connection& conn, const std::string& author_id) {
    const auto rows = conn.Exec(kSelectFollowerCount, author_id);
    return rows.Empty() ? 0 : rows.Int(0, 0);
}

std::vector<std::string> FollowedCelebrities(sn::pg::Connection& conn, const std::string& user_id,
                                             std::int64_t threshold) {
    return Column(conn.Exec(kSelectFollowedCelebrities, user_id, threshold));
}

}  // namespace backend::friends
