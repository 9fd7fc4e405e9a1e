#include "redis/pool.hpp"

namespace sn::redis {

Pool::Pool(boost::asio::any_io_executor executor, Options options, std::size_t size)
    : fiber::Pool<Connection>(std::move(executor), size, [options = std::move(options)](fiber::SocketWait& wait) {
          return std::make_unique<Connection>(options, &wait);
      }) {}

boost::asio::awaitable<bool> Pool::Ping() {
    try {
        co_return co_await Run([](Connection& conn) { return conn.Run({"PING"}).str == "PONG"; });
    } catch (const std::exception&) {
        co_return false;
    }
}

}  // namespace sn::redis
