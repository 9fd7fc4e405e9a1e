#include "app/runtime.hpp"

#include <boost/asio/signal_set.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>
#include <thread>

#include "common/log.hpp"
#include "http/server.hpp"
#include "pg/migrations.hpp"

namespace sn::app {
namespace {

namespace asio = boost::asio;

// The database may still be starting (all components start together): wait for it a while.
void MigrateWhenReachable(const BaseConfig& base) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (;;) {
        try {
            pg::Connection conn(base.pg_dsn, std::chrono::milliseconds(60'000));
            const int applied = pg::Migrate(conn, base.migration_dirs);
            log::Info("database ready", {{"migrations_applied", applied}});
            return;
        } catch (const pg::ConnectionError& e) {
            if (std::chrono::steady_clock::now() > deadline) {
                throw;
            }
            log::Warn("database not reachable yet, retrying", {{"error", e.what()}});
            std::this_thread::sleep_for(std::chrono::seconds(1));
        }
    }
}

}  // namespace

BaseConfig ReadBaseConfig(config::EnvReader& env, std::string_view service, std::string_view migrations) {
    BaseConfig base;
    base.http_host = env.String("HTTP_HOST", "127.0.0.1");
    base.http_port = static_cast<std::uint16_t>(env.Int("HTTP_PORT", 8080, 0, 65535));
    base.threads = static_cast<int>(env.Int("THREADS", 2, 1, 64));
    base.pg_dsn = env.String("PG_DSN", "host=127.0.0.1 port=55432 user=postgres dbname=" + std::string(service));
    base.pg_pool_size = static_cast<int>(env.Int("PG_POOL_SIZE", 8, 1, 256));
    base.pg_statement_timeout = env.Millis("PG_STATEMENT_TIMEOUT_MS", std::chrono::milliseconds(5000));
    base.keys_dir = env.String("AUTH_KEYS_DIR", ".data/keys");
    const auto dirs = env.String("MIGRATIONS_DIRS", migrations);
    for (std::size_t start = 0; start <= dirs.size();) {
        auto end = dirs.find(':', start);
        if (end == std::string::npos) {
            end = dirs.size();
        }
        if (end > start) {
            base.migration_dirs.emplace_back(dirs.substr(start, end - start));
        }
        start = end + 1;
    }
    return base;
}

Runtime::Runtime(std::string name, BaseConfig base_config, config::EnvReader reader)
    : service(std::move(name)),
      base(std::move(base_config)),
      env(std::move(reader)),
      keys(auth::LoadOrCreateKeys(base.keys_dir)),
      verifier(keys),
      db(io.get_executor(), base.pg_dsn, static_cast<std::size_t>(base.pg_pool_size), base.pg_statement_timeout) {}

Runtime::~Runtime() {
    while (!components_.empty()) {
        components_.pop_back();
    }
}

int Run(std::string_view service, std::string_view default_migration_dirs, const std::function<void(Runtime&)>& wire) {
    log::SetService(service);
    // hiredis writes with write(): a Redis that went away must fail the call, not end the process.
    std::signal(SIGPIPE, SIG_IGN);
    try {
        config::EnvReader env;
        log::SetLevel(env.String("LOG_LEVEL", "info"));
        auto base = ReadBaseConfig(env, service, default_migration_dirs);
        Runtime rt(std::string(service), std::move(base), std::move(env));
        MigrateWhenReachable(rt.base);
        wire(rt);
        log::Info("starting", {{"config", rt.env.Effective()}});

        http::AddOpsRoutes(rt.router, rt.metrics, [&rt]() -> asio::awaitable<bool> {
            if (!co_await rt.db.Ping()) {
                co_return false;
            }
            for (const auto& check : rt.readiness_) {
                if (!co_await check()) {
                    co_return false;
                }
            }
            co_return true;
        });
        http::ServerOptions options;
        options.host = rt.base.http_host;
        options.port = rt.base.http_port;
        http::Server server(
            rt.io, options, rt.router, [&rt](std::string_view token) { return rt.verifier.Verify(token); }, rt.metrics);
        server.Start();

        auto work = asio::make_work_guard(rt.io);
        asio::signal_set signals(rt.io, SIGTERM, SIGINT);
        signals.async_wait([&](const boost::system::error_code& ec, int signal) {
            if (ec) {
                return;
            }
            log::Info("shutting down", {{"signal", signal}});
            server.Stop();
            for (auto it = rt.stop_hooks_.rbegin(); it != rt.stop_hooks_.rend(); ++it) {
                (*it)();
            }
            work.reset();
            // Requests in flight get a few seconds to finish; then the threads are stopped. A timer
            // on the io_context would itself keep run() busy, so a watchdog thread does it.
            std::thread([&rt] {
                std::this_thread::sleep_for(std::chrono::seconds(10));
                rt.io.stop();
            }).detach();
        });
        std::vector<std::thread> threads;
        for (int i = 1; i < rt.base.threads; ++i) {
            threads.emplace_back([&rt] { rt.io.run(); });
        }
        rt.io.run();
        for (auto& t : threads) {
            t.join();
        }
        log::Info("stopped");
        return 0;
    } catch (const config::ConfigError& e) {
        log::Error("bad configuration", {{"error", e.what()}});
        return 2;
    } catch (const std::exception& e) {
        log::Error("fatal", {{"error", e.what()}});
        return 1;
    }
}

}  // namespace sn::app
