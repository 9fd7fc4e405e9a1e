#include "storage/user_repository.hpp"

#include "auth/tokens.hpp"
#include "common/ids.hpp"

namespace backend {
namespace {

constexpr std::string_view kInsert =
    "INSERT INTO users (id, first_name, second_name, birthdate, biography, city, password_hash) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)";
constexpr std::string_view kSelectById =
    "SELECT id, first_name, second_name, birthdate::text, biography, city FROM users WHERE id = $1";
constexpr std::string_view kExists = "SELECT 1 FROM users WHERE id = $1";
// The upper bound U+10FFFF sorts after every character under text_pattern_ops (byte order), so
// the two range conditions select exactly the names that start with the prefix, via an index
// (migration 003: one per leading column, both covering id). The ids come first, index-only;
// the rows of the page after. Planned per call: the best index depends on the prefixes.
constexpr std::string_view kSearch =
    "WITH hits AS ("
    "    SELECT id FROM users "
    "    WHERE first_name ~>=~ $1 AND first_name ~<~ ($1 || chr(1114111)) "
    "      AND second_name ~>=~ $2 AND second_name ~<~ ($2 || chr(1114111)) "
    "    ORDER BY id LIMIT $3) "
    "SELECT u.id, u.first_name, u.second_name, u.birthdate::text, u.biography, u.city "
    "FROM hits JOIN users u USING (id) ORDER BY u.id";
constexpr std::string_view kSelectHash = "SELECT password_hash FROM users WHERE id = $1";

std::vector<User> ToUsers(const sn::pg::Result& rows) {
    std::vector<User> users;
    users.reserve(static_cast<std::size_t>(rows.Rows()));
    for (int i = 0; i < rows.Rows(); ++i) {
        users.push_back(User{rows.String(i, 0), rows.String(i, 1), rows.String(i, 2), rows.String(i, 3),
                             rows.String(i, 4), rows.String(i, 5)});
    }
    return users;
}

/// f() as a coroutine, for co_spawn onto another executor. f captures by reference (see pg::Pool::Run).
template <typename F>
boost::asio::awaitable<std::invoke_result_t<F&>> Call(F f) {
    co_return f();
}

}  // namespace

boost::asio::awaitable<std::string> UserRepository::Create(const NewUser& user) {
    const auto hash = co_await boost::asio::co_spawn(
        hashing_, Call([&user] { return sn::auth::HashPassword(user.password); }), boost::asio::use_awaitable);
    co_return co_await db_.Run([&](sn::pg::Connection& conn) {
        auto id = sn::ids::NewUuid();
        (void)conn.Exec(kInsert, id, user.first_name, user.second_name, user.birthdate, user.biography, user.city,
                        hash);
        return id;
    });
}

boost::asio::awaitable<std::optional<User>> UserRepository::Find(const std::string& id) {
    const auto select = [&id](sn::pg::Connection& conn) -> std::optional<User> {
        auto users = ToUsers(conn.Exec(kSelectById, id));
        if (users.empty()) {
            return std::nullopt;
        }
        return std::move(users.front());
    };
    auto user = co_await reads_.Read(select);
    if (!user && &reads_ != &db_) {
        user = co_await db_.Run(select);
    }
    co_return user;
}

boost::asio::awaitable<bool> UserRepository::Exists(const std::string& id) {
    {
        const std::lock_guard lock(mutex_);
        if (known_.contains(id)) {
            co_return true;
        }
    }
    if (!co_await db_.Run([&id](sn::pg::Connection& conn) { return !conn.Exec(kExists, id).Empty(); })) {
        co_return false;
    }
    const std::lock_guard lock(mutex_);
    if (known_.size() >= kMaxRemembered) {
        known_.clear();
    }
    known_.insert(id);
    co_return true;
}

boost::asio::awaitable<std::vector<User>> UserRepository::Search(const std::string& first_prefix,
                                                                 const std::string& second_prefix, int limit) {
    co_return co_await search_.Read([&](sn::pg::Connection& conn) {
        return ToUsers(conn.ExecPlannedPerCall(kSearch, first_prefix, second_prefix, limit));
    });
}

boost::asio::awaitable<std::optional<bool>> UserRepository::CheckPassword(const std::string& id,
                                                                          const std::string& password) {
    const auto hash = co_await db_.Run([&](sn::pg::Connection& conn) -> std::optional<std::string> {
        const auto rows = conn.Exec(kSelectHash, id);
        if (rows.Empty()) {
            return std::nullopt;
        }
        return rows.String(0, 0);
    });
    if (!hash) {
        co_return std::nullopt;
    }
    co_return co_await boost::asio::co_spawn(hashing_, Call([&] { return sn::auth::VerifyPassword(*hash, password); }),
                                             boost::asio::use_awaitable);
}

}  // namespace backend
