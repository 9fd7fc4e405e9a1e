#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "fiber/pool.hpp"
#include "redis/client.hpp"

namespace sn::redis {

/// Redis connections for coroutines, driven on the caller's own threads: see fiber::Pool.
class Pool : public fiber::Pool<Connection> {
   public:
    Pool(boost::asio::any_io_executor executor, Options options, std::size_t size);

    /// True when PING answers.
    boost::asio::awaitable<bool> Ping();
};

}  // namespace sn::redis
