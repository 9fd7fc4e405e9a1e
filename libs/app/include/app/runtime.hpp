#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auth/tokens.hpp"
#include "common/config.hpp"
#include "common/metrics.hpp"
#include "http/router.hpp"
#include "pg/pool.hpp"

/// What every service shares: configuration, logs, the I/O threads, its database, the HTTP server,
/// token checks, ops endpoints and graceful shutdown. A service's main only wires its own parts.
namespace sn::app {

/// Settings every service reads (names are the environment variables).
struct BaseConfig {
    std::string http_host;                                 // HTTP_HOST
    std::uint16_t http_port = 0;                           // HTTP_PORT
    int threads = 2;                                       // THREADS: I/O threads
    std::string pg_dsn;                                    // PG_DSN
    int pg_pool_size = 8;                                  // PG_POOL_SIZE
    std::chrono::milliseconds pg_statement_timeout{5000};  // PG_STATEMENT_TIMEOUT_MS
    std::filesystem::path keys_dir;                        // AUTH_KEYS_DIR
    std::vector<std::filesystem::path> migration_dirs;     // MIGRATIONS_DIRS, colon-separated
};

/// Reads BaseConfig (throws config::ConfigError for a setting present but unusable);
/// `migrations` is the colon-separated default of MIGRATIONS_DIRS.
[[nodiscard]] BaseConfig ReadBaseConfig(config::EnvReader& env, std::string_view service, std::string_view migrations);

class Runtime {
   public:
    Runtime(std::string service, BaseConfig base, config::EnvReader env);
    /// Components go in reverse order of Make, so none outlives what it was given.
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    const std::string service;
    const BaseConfig base;
    config::EnvReader env;  // read the service's own settings through this, so they are printed too
    boost::asio::io_context io;
    metrics::Registry metrics;
    auth::KeyPair keys;
    auth::TokenVerifier verifier;
    pg::Pool db;
    http::Router router;

    /// Keeps a component alive as long as the runtime (past the last request) and returns it.
    /// Components are destroyed in reverse order: one made from another goes first.
    template <typename T, typename... Args>
    T& Make(Args&&... args) {
        auto owned = std::make_shared<T>(std::forward<Args>(args)...);
        T& ref = *owned;
        components_.push_back(std::move(owned));
        return ref;
    }

    /// Runs at SIGTERM/SIGINT after the server stopped accepting, in reverse order of registration.
    void OnStop(std::function<void()> stop) { stop_hooks_.push_back(std::move(stop)); }
    /// A dependency that /readyz checks besides the database.
    void AddReadinessCheck(std::function<boost::asio::awaitable<bool>()> check) {
        readiness_.push_back(std::move(check));
    }

   private:
    friend int Run(std::string_view, std::string_view, const std::function<void(Runtime&)>&);
    std::vector<std::shared_ptr<void>> components_;
    std::vector<std::function<void()>> stop_hooks_;
    std::vector<std::function<boost::asio::awaitable<bool>()>> readiness_;
};

/// Reads the configuration, applies migrations (`default_migration_dirs`: colon-separated folders) (waiting for the
/// database up to a minute), calls `wire` to register routes and start components, serves until SIGTERM or SIGINT, then
/// shuts down gracefully. Returns the process exit code.
int Run(std::string_view service, std::string_view default_migration_dirs, const std::function<void(Runtime&)>& wire);

}  // namespace sn::app
