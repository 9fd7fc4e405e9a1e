#pragma once

#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "pg/pool.hpp"

namespace backend {

struct NewUser {
    std::string first_name;
    std::string second_name;
    std::string birthdate;
    std::string biography;
    std::string city;
    std::string password;
};

struct User {
    std::string id;
    std::string first_name;
    std::string second_name;
    std::string birthdate;
    std::string biography;
    std::string city;
};

/// The users table: profiles and password hashes. Arguments are references: each call's
/// caller waits for it, so they outlive the work.
class UserRepository {
   public:
    /// `db`: the primary. `reads`: where Find looks first (a standby, or `db` itself). `search`: the
    /// connections searches run on, apart from both (see Search).
    UserRepository(sn::pg::Pool& db, sn::pg::Pool& reads, sn::pg::Pool& search)
        : db_(db), reads_(reads), search_(search) {}
    ~UserRepository() { hashing_.join(); }
    UserRepository(const UserRepository&) = delete;
    UserRepository& operator=(const UserRepository&) = delete;

    /// Hashes the password and stores the profile; returns the new id.
    boost::asio::awaitable<std::string> Create(const NewUser& user);
    /// Read from `reads`; a user it does not know is looked up on the primary as well: users are
    /// never changed or deleted, so only one registered within the standby's lag can be missing
    /// there, and the caller who just registered finds themselves.
    boost::asio::awaitable<std::optional<User>> Find(const std::string& id);
    /// Users are never deleted, so a user once seen is remembered (up to kMaxRemembered, then
    /// forgotten all at once): the gateway asks this on every message sent. On the primary: a
    /// message to a user who has just registered must not be refused.
    boost::asio::awaitable<bool> Exists(const std::string& id);
    /// Users whose first and second names start with the given prefixes, by id. Searches run on
    /// their own small pool and wait in line for it: their cost varies tenfold with the prefixes,
    /// and sixteen of them sharing two cores stretched the costly ones into the p99
    /// (docs/performance.md, item 22). `search` may be a standby's: a user registered within its
    /// lag is not found yet.
    boost::asio::awaitable<std::vector<User>> Search(const std::string& first_prefix, const std::string& second_prefix,
                                                     int limit);
    /// nullopt when the user does not exist; false when the password is wrong. On the primary:
    /// logging in right after registering is the usual first step.
    boost::asio::awaitable<std::optional<bool>> CheckPassword(const std::string& id, const std::string& password);

    static constexpr std::size_t kMaxRemembered = 100'000;  // ~10 MiB at most

   private:
    sn::pg::Pool& db_;
    sn::pg::Pool& reads_;
    sn::pg::Pool& search_;
    // Argon2id takes tens of milliseconds of CPU: off the I/O threads, one hash per core at most.
    boost::asio::thread_pool hashing_{std::max(1U, std::thread::hardware_concurrency())};
    std::mutex mutex_;
    std::unordered_set<std::string> known_;
};

}  // namespace backend
