#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "common/metrics.hpp"
#include "http/router.hpp"

namespace sn::http {

struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;
    std::uint64_t body_limit = 1024 * 1024;
    std::uint32_t header_limit = 16 * 1024;
    std::chrono::milliseconds read_timeout{10'000};  // for a whole request once its first byte came
    std::chrono::milliseconds idle_timeout{60'000};  // keep-alive connection with no request
    // After answering a request it could not read whole (413, 400), the server stops writing but
    // reads and discards what the client still sends, up to these bounds, before closing: a close
    // with unread bytes makes the kernel send a reset, and a client still writing its body would
    // get that instead of the answer (nginx's lingering close).
    std::uint64_t linger_bytes = 64 * 1024 * 1024;
    std::chrono::milliseconds linger_timeout{5'000};
    WebSocketOptions websocket{};  // for connections upgraded on WebSocket routes
};

/// Returns the token's subject (a user id) when the bearer token is genuine and unexpired.
using TokenVerifier = std::function<std::optional<std::string>(std::string_view token)>;

/// HTTP/1.1 server on Boost.Beast coroutines: keep-alive, body limit, timeouts, routing,
/// bearer-token check, X-Request-ID, per-route metrics, and the one place where exceptions
/// become HTTP statuses.
class Server {
   public:
    Server(boost::asio::io_context& io, ServerOptions options, const Router& router, TokenVerifier verify,
           metrics::Registry& metrics);
    /// Waits (up to 5 s, and only while the io_context runs) for the accept loop and every
    /// connection to finish: they use the server until their last step.
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds and starts accepting; throws if the port cannot be bound.
    void Start();
    /// Stops accepting, closes idle connections, and lets requests in flight finish.
    void Stop();
    [[nodiscard]] std::uint16_t Port() const noexcept { return port_; }
    [[nodiscard]] const ServerOptions& Options() const noexcept { return options_; }

    /// What happens to a request once it is read, without the socket: routing, the token check,
    /// the handler, exceptions to statuses, metrics. Serve calls it for every request that is not
    /// a WebSocket upgrade; the fuzz targets (fuzz/) call it directly.
    [[nodiscard]] boost::asio::awaitable<Response> Dispatch(const Request& request, std::string request_id,
                                                            std::string client_address = {});
    /// For a request on a WebSocket route: the refusal to send instead of upgrading (not an upgrade,
    /// missing or bad token), or nullopt with ctx.user_id set on kAuthenticated routes.
    [[nodiscard]] std::optional<Response> CheckUpgrade(const Request& request, const Router::Match& match,
                                                       Context& ctx) const;

   private:
    struct Session;
    boost::asio::awaitable<void> Accept();
    boost::asio::awaitable<void> Serve(std::shared_ptr<Session> session);
    /// Half-closes the connection and discards what the client still sends (see linger_bytes).
    boost::asio::awaitable<void> LingeringClose(Session& session);
    /// Serves a WebSocket route: token check, upgrade, then the route's handler until it returns.
    boost::asio::awaitable<void> Upgrade(const std::shared_ptr<Session>& session, const Request& request,
                                         const std::string& request_id, const Router::Match& match);

    boost::asio::io_context& io_;
    ServerOptions options_;
    const Router& router_;
    TokenVerifier verify_;
    metrics::Registry& metrics_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::mutex sessions_mutex_;
    std::set<std::shared_ptr<Session>> sessions_;
    bool accepting_ = false;                // the accept loop still runs
    std::condition_variable all_finished_;  // sessions_ empty and !accepting_
};

/// The client's X-Request-ID when it is safe to carry on, else a fresh one.
[[nodiscard]] std::string RequestIdOf(const Request& request);

/// Adds `/healthz`, `/readyz` (200 when `ready` says so, else 503) and `/metrics`.
void AddOpsRoutes(Router& router, metrics::Registry& metrics, std::function<boost::asio::awaitable<bool>()> ready);

}  // namespace sn::http
