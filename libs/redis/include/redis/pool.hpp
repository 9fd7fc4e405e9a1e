#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include "redis/client.hpp"

namespace sn::redis {

/// Redis connections for coroutines. hiredis' calls block, so each runs on one of the pool's own
/// threads and the coroutine resumes on its own executor after; the I/O threads never wait on
/// Redis. (pg::Pool no longer works this way: ADR 001; Redis has not followed yet.)
class Pool {
   public:
    Pool(Options options, std::size_t size);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    /// Runs f(Connection&) on a pool thread. The caller waits, so f captures by reference.
    template <typename F>
    boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> Run(F f) {
        static_assert(std::is_trivially_destructible_v<F>, "capture by reference in redis::Pool::Run");
        co_return co_await boost::asio::co_spawn(workers_, OnWorker(this, std::move(f)), boost::asio::use_awaitable);
    }

    /// True when PING answers.
    boost::asio::awaitable<bool> Ping();

   private:
    template <typename F>
    static boost::asio::awaitable<std::invoke_result_t<F&, Connection&>> OnWorker(Pool* pool, F f) {
        Lease lease(*pool);
        co_return f(*lease.connection);
    }

    struct Lease {
        explicit Lease(Pool& pool);
        ~Lease();
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Pool& pool;
        std::unique_ptr<Connection> connection;
    };

    Options options_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Connection>> free_;
    boost::asio::thread_pool workers_;
};

}  // namespace sn::redis
