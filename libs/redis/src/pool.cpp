#include "redis/pool.hpp"

namespace sn::redis {

Pool::Pool(Options options, std::size_t size) : options_(std::move(options)), workers_(size) {
    for (std::size_t i = 0; i < size; ++i) {
        free_.push_back(std::make_unique<Connection>(options_));  // connects lazily
    }
}

Pool::~Pool() { workers_.join(); }

Pool::Lease::Lease(Pool& owner) : pool(owner) {
    const std::lock_guard lock(pool.mutex_);
    // As many threads as connections, so a task on a worker always finds one free.
    connection = std::move(pool.free_.back());
    pool.free_.pop_back();
}

Pool::Lease::~Lease() {
    const std::lock_guard lock(pool.mutex_);
    pool.free_.push_back(std::move(connection));
}

boost::asio::awaitable<bool> Pool::Ping() {
    try {
        co_return co_await Run([](Connection& conn) { return conn.Run({"PING"}).str == "PONG"; });
    } catch (const std::exception&) {
        co_return false;
    }
}

}  // namespace sn::redis
