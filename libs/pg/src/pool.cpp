#include "pg/pool.hpp"

namespace sn::pg {

Pool::Pool(boost::asio::any_io_executor executor, std::string dsn, std::size_t size,
           std::chrono::milliseconds statement_timeout, std::chrono::seconds reopen_after)
    : fiber::Pool<Connection>(std::move(executor), size,
                              [dsn = std::move(dsn), statement_timeout, reopen_after](fiber::SocketWait& wait) {
                                  auto conn = std::make_unique<Connection>(dsn, statement_timeout, &wait);
                                  conn->ReopenAfter(reopen_after);
                                  return conn;
                              }) {}

void Pool::CountReads(metrics::Registry& registry, const std::string& pool) {
    constexpr std::string_view kHelp = "Read-only queries, by the server they ran on.";
    counters_.standby = &registry.GetCounter("pg_reads_total", kHelp, {{"pool", pool}, {"server", "standby"}});
    counters_.primary = &registry.GetCounter("pg_reads_total", kHelp, {{"pool", pool}, {"server", "primary"}});
    counters_.retried = &registry.GetCounter("pg_read_retries_total",
                                             "Read-only queries run again after their connection's server went away.",
                                             {{"pool", pool}});
}

boost::asio::awaitable<bool> Pool::Ping() {
    try {
        // Not through ReadOn: a probe that fails on a connection the server dropped is what makes
        // the pool's dead connections fail a probe instead of a client's request (each failing
        // probe replaces one), and the e2e fault tests wait for readiness on it.
        co_await Run([](Connection& conn) { (void)conn.Exec("SELECT 1"); });
        co_return true;
    } catch (const std::exception&) {
        co_return false;
    }
}

}  // namespace sn::pg
