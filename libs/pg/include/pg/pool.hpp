#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "pg/connection.hpp"

namespace sn::pg {

/// Connections for coroutines. libpq calls block, so each runs on one of the pool's own threads
/// (as many threads as connections) and the coroutine resumes on its own executor afterwards;
/// the I/O threads never wait on the database.
class Pool {
   public:
    Pool(std::string dsn, std::size_t size, std::chrono::milliseconds statement_timeout);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    /// Runs f(Connection&) on a pool thread.
    template <typename F>
    boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> Run(F f) {
        using R = std::invoke_result_t<F&, Connection&>;
        co_return co_await boost::asio::co_spawn(
            workers_,
            [this, f = std::move(f)]() mutable -> boost::asio::awaitable<R> {
                Lease lease(*this);
                co_return f(*lease.connection);
            },
            boost::asio::use_awaitable);
    }

    /// Runs f(Connection&) inside BEGIN ... COMMIT; an exception rolls back. Serialization failures
    /// and deadlocks are retried up to three times.
    template <typename F>
    boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> Transact(F f) {
        co_return co_await Run([f = std::move(f)](Connection& conn) mutable {
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

    /// True when a trivial query succeeds.
    boost::asio::awaitable<bool> Ping();

   private:
    /// A connection borrowed from the free list for one task, returned in the destructor.
    struct Lease {
        explicit Lease(Pool& pool);
        ~Lease();
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Pool& pool;
        std::unique_ptr<Connection> connection;
    };

    std::string dsn_;
    std::chrono::milliseconds statement_timeout_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Connection>> free_;
    boost::asio::thread_pool workers_;
};

}  // namespace sn::pg
