#include "pg/pool.hpp"

namespace sn::pg {

Pool::Pool(boost::asio::any_io_executor executor, std::string dsn, std::size_t size,
           std::chrono::milliseconds statement_timeout)
    : fiber::Pool<Connection>(std::move(executor), size,
                              [dsn = std::move(dsn), statement_timeout](fiber::SocketWait& wait) {
                                  return std::make_unique<Connection>(dsn, statement_timeout, &wait);
                              }) {}

boost::asio::awaitable<bool> Pool::Ping() {
    try {
        co_await Run([](Connection& conn) { (void)conn.Exec("SELECT 1"); });
        co_return true;
    } catch (const std::exception&) {
        co_return false;
    }
}

}  // namespace sn::pg
