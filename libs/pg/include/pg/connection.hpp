#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/errors.hpp"
#include "fiber/socket_wait.hpp"

/// A small, sharp C++ face for libpq: owned handles, typed errors, cached prepared statements.
namespace sn::pg {

/// The server could not be reached, the connection broke, or a statement timed out.
class ConnectionError : public UnavailableError {
    using UnavailableError::UnavailableError;
};

/// A statement failed; sqlstate() says why (https://www.postgresql.org/docs/15/errcodes-appendix.html).
class QueryError : public std::runtime_error {
   public:
    QueryError(const std::string& message, std::string sqlstate)
        : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
    [[nodiscard]] const std::string& sqlstate() const noexcept { return sqlstate_; }
    [[nodiscard]] bool IsUniqueViolation() const noexcept { return sqlstate_ == "23505"; }
    [[nodiscard]] bool IsForeignKeyViolation() const noexcept { return sqlstate_ == "23503"; }
    [[nodiscard]] bool IsRetryable() const noexcept { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }

   private:
    std::string sqlstate_;
};

/// One statement parameter in text form; nullopt is SQL NULL.
using Param = std::optional<std::string>;

/// A query result (text format), owning its PGresult.
class Result {
   public:
    explicit Result(PGresult* result) noexcept : result_(result, &PQclear) {}
    [[nodiscard]] int Rows() const noexcept { return PQntuples(result_.get()); }
    [[nodiscard]] bool Empty() const noexcept { return Rows() == 0; }
    [[nodiscard]] bool IsNull(int row, int col) const noexcept { return PQgetisnull(result_.get(), row, col) != 0; }
    [[nodiscard]] std::string_view Text(int row, int col) const noexcept {
        return {PQgetvalue(result_.get(), row, col), static_cast<std::size_t>(PQgetlength(result_.get(), row, col))};
    }
    [[nodiscard]] std::string String(int row, int col) const { return std::string(Text(row, col)); }
    [[nodiscard]] std::int64_t Int(int row, int col) const;
    [[nodiscard]] bool Bool(int row, int col) const noexcept { return Text(row, col) == "t"; }
    /// Rows changed by an INSERT/UPDATE/DELETE.
    [[nodiscard]] std::int64_t Affected() const;
    [[nodiscard]] const PGresult* Raw() const noexcept { return result_.get(); }

   private:
    std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

/// Text-form conversion of statement arguments.
inline Param ToParam(std::string value) { return value; }
inline Param ToParam(std::string_view value) { return std::string(value); }
inline Param ToParam(const char* value) { return std::string(value); }
inline Param ToParam(std::int64_t value) { return std::to_string(value); }
inline Param ToParam(int value) { return std::to_string(value); }
inline Param ToParam(bool value) { return value ? "true" : "false"; }
inline Param ToParam(std::nullopt_t) { return std::nullopt; }
/// A PostgreSQL array literal `{"a","b"}`, for `= ANY($n::uuid[])` and the like.
Param ToParam(const std::vector<std::string>& values);
template <typename T>
Param ToParam(const std::optional<T>& value) {
    return value ? ToParam(*value) : std::nullopt;
}

/// One connection. Statements run through Exec are prepared once per connection and reused.
/// libpq runs non-blocking underneath: every wait for the server goes through a fiber::SocketWait,
/// with a deadline (the connect timeout, or the statement timeout plus a grace period in case the
/// server itself cannot enforce it).
class Connection {
   public:
    /// Connects within 3 s; statement_timeout bounds every query. `wait` (not owned; nullptr: the
    /// thread blocks) must outlive the connection.
    Connection(const std::string& dsn, std::chrono::milliseconds statement_timeout, fiber::SocketWait* wait = nullptr);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Runs a statement with $n parameters. Connection failures throw ConnectionError (and the
    /// next call reconnects); statement failures throw QueryError.
    Result ExecParams(std::string_view sql, const std::vector<Param>& params);

    template <typename... Args>
    Result Exec(std::string_view sql, Args&&... args) {
        return ExecParams(sql, std::vector<Param>{ToParam(std::forward<Args>(args))...});
    }

    /// Like Exec, but planned for these very values on every call instead of prepared once: for
    /// a query whose best plan depends on them (a name prefix "А" matches a fifth of the users,
    /// "Иванов" a handful), where a prepared statement's generic plan is slow for some values.
    template <typename... Args>
    Result ExecPlannedPerCall(std::string_view sql, Args&&... args) {
        return Execute(sql, std::vector<Param>{ToParam(std::forward<Args>(args))...}, false);
    }

    /// Runs one or more statements without parameters or preparation (BEGIN, LISTEN, migrations).
    void Simple(std::string_view sql);

    /// Calls `hook` once the current transaction commits, or at once outside a transaction; a
    /// rollback drops it. A hook registered twice in one transaction runs once.
    using CommitHook = void (*)();
    void AfterCommit(CommitHook hook);

    [[nodiscard]] bool Healthy() const noexcept;
    /// True while connected to a hot standby (PostgreSQL 14+ reports `in_hot_standby` at connect
    /// and again when the server is promoted).
    [[nodiscard]] bool OnStandby() const noexcept;

    /// From now on the connection is closed and opened anew before a statement, outside a
    /// transaction, once it is older than `age` (zero: never). With several hosts this moves it
    /// back to the host libpq prefers (a standby that has come back) after a fallback.
    void ReopenAfter(std::chrono::seconds age) noexcept { max_age_ = age; }

   private:
    friend class Transaction;
    Result Execute(std::string_view sql, const std::vector<Param>& params, bool prepare);
    void EnsureConnected();
    void Disconnect() noexcept;
    /// Waits for the socket; a passed deadline drops the connection and throws ConnectionError.
    void WaitFor(fiber::SocketWait::Until until, std::chrono::steady_clock::time_point deadline);
    /// Takes what a PQsend* call returned (`sent`; 0 is a failure), flushes what it queued, then
    /// collects its results: the last one, or the first error.
    Result Finish(int sent, std::string_view sql);
    [[noreturn]] void Fail(const PGresult* result, std::string_view sql);

    std::string dsn_;
    std::chrono::milliseconds statement_timeout_;
    fiber::SocketWait* wait_;
    std::chrono::seconds max_age_{0};
    std::chrono::steady_clock::time_point connected_at_;
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn_{nullptr, &PQfinish};
    std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
    std::vector<CommitHook> commit_hooks_;                   // of the open transaction
};

/// BEGIN now; ROLLBACK in the destructor unless Commit() ran. The destructor never throws.
class Transaction {
   public:
    explicit Transaction(Connection& connection);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    void Commit();
    [[nodiscard]] Connection& conn() noexcept { return connection_; }

   private:
    Connection& connection_;
    bool done_ = false;
};

}  // namespace sn::pg
