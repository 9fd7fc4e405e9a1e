#include "pg/pool.hpp"

namespace sn::pg {

Pool::Pool(std::string dsn, std::size_t size, std::chrono::milliseconds statement_timeout)
    : dsn_(std::move(dsn)), statement_timeout_(statement_timeout), workers_(size) {}

Pool::~Pool() { workers_.join(); }

Pool::Lease::Lease(Pool& owner) : pool(owner) {
    {
        const std::lock_guard lock(pool.mutex_);
        if (!pool.free_.empty()) {
            connection = std::move(pool.free_.back());
            pool.free_.pop_back();
        }
    }
    // There are as many threads as connections, so a thread that finds the list empty is the
    // first to need a connection of its own; it connects lazily, and reconnects a broken one.
    if (!connection) {
        connection = std::make_unique<Connection>(pool.dsn_, pool.statement_timeout_);
    }
}

Pool::Lease::~Lease() {
    if (connection && connection->Healthy()) {
        const std::lock_guard lock(pool.mutex_);
        pool.free_.push_back(std::move(connection));
    }
}

boost::asio::awaitable<bool> Pool::Ping() {
    try {
        co_await Run([](Connection& conn) { (void)conn.Exec("SELECT 1"); });
        co_return true;
    } catch (const std::exception&) {
        co_return false;
    }
}

}  // namespace sn::pg
