#include "app/runtime.hpp"
#include "common/log.hpp"
#include "feed/feed_service.hpp"
#include "handlers/friends.hpp"
#include "handlers/gateway.hpp"
#include "handlers/posts.hpp"
#include "handlers/users.hpp"
#include "http/client.hpp"
#include "http/static_files.hpp"
#include "live/live_channel.hpp"
#include "redis/pool.hpp"
#include "redis/tracking.hpp"
#include "saga/config.hpp"
#include "saga/outbox.hpp"
#include "storage/user_repository.hpp"
#include "workers/feed_fanout.hpp"

int main() {
    return sn::app::Run("backend", SN_SAGA_MIGRATIONS_DIR ":" SN_MIGRATIONS_DIR, [](sn::app::Runtime& rt) {
        auto& env = rt.env;
        const auto ttl = std::chrono::seconds(env.Int("TOKEN_TTL_SECONDS", 86'400, 1, 31'536'000));
        const auto dialogs_url = env.String("DIALOGS_URL", "http://127.0.0.1:8081");
        const auto counters_url = env.String("COUNTERS_URL", "http://127.0.0.1:8082");
        const auto broker = sn::saga::ReadBroker(env);
        auto redis = sn::redis::ParseUrl(env.String("REDIS_URL", "redis://127.0.0.1:56379"));
        redis.command_timeout = env.Millis("REDIS_TIMEOUT_MS", std::chrono::milliseconds(1'000));
        const auto redis_pool_size = static_cast<std::size_t>(env.Int("REDIS_POOL_SIZE", 8, 1, 256));
        // Searches in PostgreSQL at once; the rest wait in line (UserRepository::Search).
        const auto search_pool_size = static_cast<std::size_t>(env.Int("SEARCH_POOL_SIZE", 3, 1, 256));
        const auto celebrity_followers = env.Int("FEED_CELEBRITY_FOLLOWERS", 10'000, 0, 1'000'000'000);
        // Feeds and bodies read from Redis, kept in the process until Redis says they changed; 0: none.
        const auto local_cache_bytes = static_cast<std::size_t>(env.Int("FEED_LOCAL_CACHE_MB", 8, 0, 4096)) << 20U;
        const auto relay = sn::saga::ReadRelayOptions(env);
        // Password hashes running or waiting at once; past it registrations and logins get 503 at once.
        const auto hash_line = static_cast<std::size_t>(env.Int("HASH_QUEUE_LIMIT", 32, 1, 100'000));
        backend::LoginLimits login_limits;
        login_limits.per_account = env.Int("LOGIN_FAILURES_PER_ACCOUNT", login_limits.per_account, 1, 1'000'000);
        login_limits.per_address = env.Int("LOGIN_FAILURES_PER_ADDRESS", login_limits.per_address, 1, 1'000'000);
        login_limits.window =
            std::chrono::seconds(env.Int("LOGIN_FAILURE_WINDOW_SECONDS", login_limits.window.count(), 1, 86'400));

        // Read-only queries that may miss the newest writes (user get and search, feeds from the
        // tables) go here; unset: to PG_DSN like the rest (docs/api.md, "Reads from the standby").
        const auto read_dsn = env.String("PG_READ_DSN", "");
        const auto read_pool_size =
            static_cast<std::size_t>(env.Int("PG_READ_POOL_SIZE", rt.base.pg_pool_size, 1, 256));
        // A read connection that fell back to the primary moves back to a standby this long after it opened.
        const auto read_reopen =
            std::chrono::seconds(read_dsn.empty() ? 0 : env.Int("PG_READ_REOPEN_SECONDS", 10, 0, 86'400));

        const auto& signer = rt.Make<sn::auth::TokenSigner>(rt.keys, ttl);
        auto& read_db = read_dsn.empty() ? rt.db
                                         : rt.Make<sn::pg::Pool>(rt.io.get_executor(), read_dsn, read_pool_size,
                                                                 rt.base.pg_statement_timeout, read_reopen);
        auto& search_db = rt.Make<sn::pg::Pool>(rt.io.get_executor(), read_dsn.empty() ? rt.base.pg_dsn : read_dsn,
                                                search_pool_size, rt.base.pg_statement_timeout, read_reopen);
        read_db.CountReads(rt.metrics, "read");
        search_db.CountReads(rt.metrics, "search");
        auto& users = rt.Make<backend::UserRepository>(rt.db, read_db, search_db);
        auto& dialogs = rt.Make<sn::http::Upstream>(rt.io.get_executor(), dialogs_url);
        auto& counters = rt.Make<sn::http::Upstream>(rt.io.get_executor(), counters_url);
        auto& cache = rt.Make<sn::redis::Pool>(rt.io.get_executor(), redis, redis_pool_size);
        backend::feed::LocalCache* local = nullptr;
        if (local_cache_bytes > 0) {
            local = &rt.Make<backend::feed::LocalCache>(local_cache_bytes, rt.metrics);
            rt.Make<sn::redis::Tracking>(redis, "backend-feed-tracking", local->TrackedPrefixes(), *local);
        }
        auto& feed = rt.Make<backend::feed::FeedService>(rt.db, read_db, cache, celebrity_followers, rt.metrics, local);
        auto& live = rt.Make<backend::LiveChannel>(backend::FeedLiveSource(), broker, rt.metrics);
        auto& live_dialogs = rt.Make<backend::LiveChannel>(backend::DialogLiveSource(), broker, rt.metrics);
        auto& outbox =
            rt.Make<sn::saga::OutboxRelay>(rt.base.pg_dsn, broker, backend::feed::Topology(), relay, rt.metrics);
        auto& fanout = rt.Make<backend::FeedFanout>(rt.base.pg_dsn, redis, broker, celebrity_followers, rt.metrics);

        auto& hashes = rt.Make<sn::auth::HashAdmission>(hash_line);
        auto& limiter = rt.Make<backend::LoginLimiter>(cache, login_limits, rt.metrics);
        auto& passwords = rt.Make<backend::Passwords>(
            backend::Passwords{hashes, limiter,
                               rt.metrics.GetCounter("password_hashes_refused_total",
                                                     "Registrations and logins refused: too many hashes in line.")});
        backend::AddUserRoutes(rt.router, users, signer, passwords);
        backend::AddGatewayRoutes(rt.router, users, dialogs, counters);
        backend::AddFriendRoutes(rt.router, rt.db, feed);
        backend::AddPostRoutes(rt.router, rt.db, feed);
        backend::AddLiveRoute(rt.router, "/post/feed/posted", live);
        backend::AddLiveRoute(rt.router, "/dialog/live", live_dialogs);
        // The web client, /openapi.json and /docs (web/, built by `make web`).
        const auto web_dir = env.String("WEB_DIR", SN_WEB_DIR);
        const auto files = sn::http::AddStaticFiles(rt.router, web_dir);
        sn::log::Info("static files", {{"dir", web_dir}, {"files", static_cast<std::int64_t>(files)}});
        // Redis is a cache: the feed is served from the tables without it, so it is not a readiness check.
        rt.AddReadinessCheck([&fanout]() -> boost::asio::awaitable<bool> { co_return fanout.Consuming(); });
        // With PG_READ_DSN: a read pool reaches the primary when no standby answers, so this fails
        // only when neither does.
        if (!read_dsn.empty()) {
            rt.AddReadinessCheck([&read_db]() -> boost::asio::awaitable<bool> { co_return co_await read_db.Ping(); });
        }
        rt.OnStop([&outbox, &fanout, &live, &live_dialogs] {
            live_dialogs.Stop();
            live.Stop();
            fanout.Stop();
            outbox.Stop();
        });
    });
}
