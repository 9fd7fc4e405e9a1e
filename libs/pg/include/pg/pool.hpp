#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <type_traits>

#include "fiber/pool.hpp"
#include "pg/connection.hpp"

namespace sn::pg {

/// PostgreSQL connections for coroutines, driven on the caller's own threads: see fiber::Pool.
class Pool : public fiber::Pool<Connection> {
   public:
    Pool(boost::asio::any_io_executor executor, std::string dsn, std::size_t size,
         std::chrono::milliseconds statement_timeout);

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

    /// True when a trivial query succeeds.
    boost::asio::awaitable<bool> Ping();
};

}  // namespace sn::pg
