#include "storage/post_repository.hpp"

#include "common/ids.hpp"

namespace backend::posts {
namespace {

#define SN_POST_COLUMNS "p.id, p.author_id, p.text, (extract(epoch FROM p.created_at) * 1000000)::bigint"

constexpr std::string_view kInsert =
    "INSERT INTO posts AS p (id, author_id, text) VALUES ($1, $2, $3) RETURNING " SN_POST_COLUMNS;
constexpr std::string_view kLockAuthor = "SELECT author_id FROM posts WHERE id = $1 FOR UPDATE";
constexpr std::string_view kUpdate = "UPDATE posts SET text = $2, updated_at = clock_timestamp() WHERE id = $1";
constexpr std::string_view kDelete = "DELETE FROM posts WHERE id = $1";
constexpr std::string_view kSelectOne = "SELECT " SN_POST_COLUMNS " FROM posts p WHERE p.id = $1";
constexpr std::string_view kSelectMany = "SELECT " SN_POST_COLUMNS " FROM posts p WHERE p.id = ANY($1::uuid[])";
constexpr std::string_view kSelectFeed =
    "SELECT " SN_POST_COLUMNS
    " FROM friends f JOIN posts p ON p.author_id = f.friend_id "
    "WHERE f.user_id = $1 ORDER BY p.created_at DESC, p.id DESC OFFSET $2 LIMIT $3";
constexpr std::string_view kSelectFeedExcept =
    "SELECT " SN_POST_COLUMNS
    " FROM friends f JOIN posts p ON p.author_id = f.friend_id "
    "WHERE f.user_id = $1 AND f.friend_id <> ALL($2::uuid[]) ORDER BY p.created_at DESC, p.id DESC LIMIT $3";
constexpr std::string_view kSelectByAuthors = "SELECT " SN_POST_COLUMNS
                                              " FROM posts p WHERE p.author_id = ANY($1::uuid[]) "
                                              "ORDER BY p.created_at DESC, p.id DESC LIMIT $2";

#undef SN_POST_COLUMNS

std::vector<Post> ToPosts(const sn::pg::Result& rows) {
    std::vector<Post> result;
    result.reserve(static_cast<std::size_t>(rows.Rows()));
    for (int i = 0; i < rows.Rows(); ++i) {
        result.push_back(Post{rows.String(i, 0), rows.String(i, 1), rows.String(i, 2), rows.Int(i, 3)});
    }
    return result;
}

}  // namespace

Post Create(sn::pg::Connection& conn, const std::string& author_id, const std::string& text) {
    return ToPosts(conn.Exec(kInsert, sn::ids::NewUuid(), author_id, text)).front();
}

std::optional<std::string> LockAuthor(sn::pg::Connection& conn, const std::string& post_id) {
    const auto rows = conn.Exec(kLockAuthor, post_id);
    if (rows.Empty()) {
        return std::nullopt;
    }
    return rows.String(0, 0);
}

void Update(sn::pg::Connection& conn, const std::string& post_id, const std::string& text) {
    (void)conn.Exec(kUpdate, post_id, text);
}

void Delete(sn::pg::Connection& conn, const std::string& post_id) { (void)conn.Exec(kDelete, post_id); }

std::optional<Post> Find(sn::pg::Connection& conn, const std::string& post_id) {
    auto found = ToPosts(conn.Exec(kSelectOne, post_id));
    if (found.empty()) {
        return std::nullopt;
    }
    return std::move(found.front());
}

std::vector<Post> FindMany(sn::pg::Connection& conn, const std::vector<std::string>& post_ids) {
    return ToPosts(conn.Exec(kSelectMany, post_ids));
}

std::vector<Post> Feed(sn::pg::Connection& conn, const std::string& user_id, std::int64_t offset, std::int64_t limit) {
    return ToPosts(conn.Exec(kSelectFeed, user_id, offset, limit));
}

std::vector<Post> FeedExcept(sn::pg::Connection& conn, const std::string& user_id,
                             const std::vector<std::string>& excluded, std::int64_t limit) {
    return ToPosts(conn.Exec(kSelectFeedExcept, user_id, excluded, limit));
}

std::vector<Post> ByAuthors(sn::pg::Connection& conn, const std::vector<std::string>& author_ids, std::int64_t limit) {
    return ToPosts(conn.Exec(kSelectByAuthors, author_ids, limit));
}

}  // namespace backend::posts
