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

    /// Runs f(Connection&) on a pool thread. The caller waits, so f captures by reference.
    template <typename F>
    boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> Run(F f) {
        // GCC 12 mishandles objects with destructors that live across a co_await inside
        // temporaries (double destruction); a lambda of references has none.
        static_assert(std::is_trivially_destructible_v<F>, "capture by reference in Pool::Run/Transact");
        co_return co_await boost::asio::co_spawn(workers_, OnWorker(this, std::move(f)), boost::asio::use_awaitable);
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
    // A plain coroutine rather than a capturing coroutine lambda, for the same GCC 12 reason.
    template <typename F>
    static boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> OnWorker(Pool* pool, F f) {
        Lease lease(*pool);
        co_return f(*lease.connection);
    }

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
