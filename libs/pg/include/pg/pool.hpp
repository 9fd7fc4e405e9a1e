#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <type_traits>

#include "common/metrics.hpp"
#include "fiber/pool.hpp"
#include "pg/connection.hpp"

namespace sn::pg {

/// PostgreSQL connections for coroutines, driven on the caller's own threads: see fiber::Pool.
class Pool : public fiber::Pool<Connection> {
   public:
    /// `reopen_after` (zero: never) bounds a connection's age (Connection::ReopenAfter).
    Pool(boost::asio::any_io_executor executor, std::string dsn, std::size_t size,
         std::chrono::milliseconds statement_timeout, std::chrono::seconds reopen_after = std::chrono::seconds(0));

    /// Runs a read-only f(Connection&). When the connection was open but turns out dead (its server
    /// went away: a standby killed, a failover), f runs once more on a connection opened anew: a read
    /// is safe to repeat, and each idle connection of the pool would otherwise fail one request.
    /// A connect that fails, or a statement timeout, is not repeated.
    template <typename F>
    boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> Read(F f) {
        co_return co_await Run([&f, this](Connection& conn) { return ReadOn(conn, f, &counters_); });
    }

    /// Counts Read calls in `registry`: pg_reads_total{pool, server="standby"|"primary"} by where
    /// they ran, and pg_read_retries_total{pool}.
    void CountReads(metrics::Registry& registry, const std::string& pool);

    /// Runs f(Connection&) inside BEGIN ... COMMIT; an exception rolls back. Serialization failures
    /// and deadlocks are retried up to three times.
    template <typename F>
    boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> Transact(F f) {
        co_return co_await Run([&f](Connection& conn) {
            for (int attempt = 1;; ++attempt) {
                try {
                    Transaction tx(conn);
                    if constexpr (std::is_void_v<std::invoke_result_t<F&, Connection&>>) {
                        f(conn);
                        tx.Commit();
                        return;
                    } else {
                        auto result = f(conn);
                        tx.Commit();
                        return result;
                    }
                } catch (const QueryError& e) {
                    if (!e.IsRetryable() || attempt >= 3) {
                        throw;
                    }
                }
            }
        });
    }

    /// True when a trivial query succeeds (a dead idle connection fails it once, then is replaced).
    boost::asio::awaitable<bool> Ping();

   private:
    struct ReadCounters {
        metrics::Counter* standby = nullptr;
        metrics::Counter* primary = nullptr;
        metrics::Counter* retried = nullptr;
    };

    /// f(conn), once more after an open connection turned out dead; counted by where it ran.
    template <typename F>
    static auto ReadOn(Connection& conn, F& f, const ReadCounters* counters) {
        const bool was_open = conn.Healthy();
        try {
            return Counted(conn, f, counters);
        } catch (const ConnectionError&) {
            if (!was_open || conn.Healthy()) {
                throw;
            }
        }
        if (counters != nullptr && counters->retried != nullptr) {
            counters->retried->Add();
        }
        return Counted(conn, f, counters);
    }
    template <typename F>
    static auto Counted(Connection& conn, F& f, const ReadCounters* counters) {
        auto result = f(conn);
        if (counters != nullptr && counters->standby != nullptr) {
            (conn.OnStandby() ? counters->standby : counters->primary)->Add();
        }
        return result;
    }

    ReadCounters counters_;
};

}  // namespace sn::pg
