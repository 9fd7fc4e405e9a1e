#include "http/server.hpp"

#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>

#include "common/errors.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "websocket_impl.hpp"

namespace sn::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

struct Server::Session {
    explicit Session(tcp::socket socket) : stream(std::move(socket)) {}
    beast::tcp_stream stream;
    std::string client_address;  // the peer's IP, taken once at accept
    bool idle = true;            // waiting for the next request; only touched on the stream's strand
    bool upgraded = false;       // now a WebSocket: Stop() closes it too
};

namespace {

void LogException(std::exception_ptr error, std::string_view what) {
    if (!error) {
        return;
    }
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        log::Error("coroutine failed", {{"where", what}, {"error", e.what()}});
    }
}

std::string_view PathOf(std::string_view target) {
    const auto query = target.find('?');
    return query == std::string_view::npos ? target : target.substr(0, query);
}

std::optional<std::string_view> BearerToken(const Request& request) {
    const auto header = request[beast_http::field::authorization];
    constexpr std::string_view kPrefix = "Bearer ";
    if (header.size() <= kPrefix.size() || header.substr(0, kPrefix.size()) != kPrefix) {
        return std::nullopt;
    }
    return header.substr(kPrefix.size());
}

// The method as a metrics label: a method Beast does not know is any text the client sent, and a
// label per distinct text would let a client grow the registry without bound.
std::string MethodLabel(const Request& request) {
    return request.method() == Verb::unknown ? "other" : std::string(request.method_string());
}

}  // namespace

std::string RequestIdOf(const Request& request) {
    const auto sent = request["X-Request-ID"];
    return ids::IsValidRequestId(sent) ? std::string(sent) : ids::NewRequestId();
}

Server::Server(asio::io_context& io, ServerOptions options, const Router& router, TokenVerifier verify,
               metrics::Registry& metrics)
    : io_(io),
      options_(std::move(options)),
      router_(router),
      verify_(std::move(verify)),
      metrics_(metrics),
      acceptor_(asio::make_strand(io)) {}

Server::~Server() {
    std::unique_lock lock(sessions_mutex_);
    if (accepting_) {
        lock.unlock();
        Stop();  // the acceptor's close is posted: waiting for the accept loop covers it too
        lock.lock();
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while ((accepting_ || !sessions_.empty()) && !io_.stopped() &&
           all_finished_.wait_until(lock, deadline) != std::cv_status::timeout) {
    }
}

void Server::Start() {
    const tcp::endpoint endpoint(asio::ip::make_address(options_.host), options_.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
    accepting_ = true;
    asio::co_spawn(acceptor_.get_executor(), Accept(), [this](std::exception_ptr e) {
        LogException(e, "accept");
        const std::lock_guard lock(sessions_mutex_);
        accepting_ = false;
        all_finished_.notify_all();
    });
    log::Info("http server listening", {{"host", options_.host}, {"port", port_}});
}

void Server::Stop() {
    if (stopping_.exchange(true)) {
        return;
    }
    asio::post(acceptor_.get_executor(), [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
    });
    const std::lock_guard lock(sessions_mutex_);
    for (const auto& session : sessions_) {
        asio::post(session->stream.get_executor(), [session] {
            if (session->idle || session->upgraded) {
                boost::system::error_code ignored;
                session->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
                session->stream.socket().close(ignored);
            }
        });
    }
}

asio::awaitable<void> Server::Accept() {
    while (!stopping_) {
        auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(io_), kNoThrow);
        if (ec) {
            if (stopping_ || ec == asio::error::operation_aborted) {
                break;
            }
            log::Warn("accept failed", {{"error", ec.message()}});
            continue;
        }
        socket.set_option(tcp::no_delay(true), ec);
        const auto peer = socket.remote_endpoint(ec);
        auto session = std::make_shared<Session>(std::move(socket));
        if (!ec) {
            session->client_address = peer.address().to_string();
        }
        {
            const std::lock_guard lock(sessions_mutex_);
            sessions_.insert(session);
        }
        asio::co_spawn(session->stream.get_executor(), Serve(session), [this, session](std::exception_ptr e) {
            LogException(e, "http session");
            const std::lock_guard lock(sessions_mutex_);
            sessions_.erase(session);
            all_finished_.notify_all();
        });
    }
}

asio::awaitable<void> Server::Serve(std::shared_ptr<Session> session) {
    auto& stream = session->stream;
    beast::flat_buffer buffer;
    while (!stopping_) {
        beast_http::request_parser<beast_http::string_body> parser;
        parser.body_limit(options_.body_limit);
        parser.header_limit(options_.header_limit);
        session->idle = buffer.size() == 0;
        stream.expires_after(session->idle ? options_.idle_timeout : options_.read_timeout);
        auto [ec, bytes] = co_await beast_http::async_read(stream, buffer, parser, kNoThrow);
        session->idle = false;
        if (ec == beast_http::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::operation_aborted || ec == asio::error::connection_reset || ec == asio::error::eof ||
            ec == asio::error::bad_descriptor) {
            break;
        }
        if (ec) {
            // The request could not be read whole: answer once and close, since the stream is out of step.
            const bool too_large = ec == beast_http::error::body_limit || ec == beast_http::error::header_limit;
            const auto request_id = RequestIdOf(parser.get());
            auto res =
                ErrorResponse(too_large ? Status::payload_too_large : Status::bad_request,
                              too_large ? "request too large" : "malformed HTTP request: " + ec.message(), request_id);
            res.set("X-Request-ID", request_id);
            res.keep_alive(false);
            stream.expires_after(options_.read_timeout);
            auto [write_ec, written] = co_await beast_http::async_write(stream, res, kNoThrow);
            if (!write_ec) {
                co_await LingeringClose(*session);
            }
            break;
        }
        const auto& request = parser.get();
        const auto request_id = RequestIdOf(request);
        if (const auto match = router_.Find(request.method(), PathOf(request.target()));
            match.route != nullptr && match.route->on_upgrade) {
            co_await Upgrade(session, request, request_id, match);
            break;
        }
        auto res = co_await Dispatch(request, request_id, session->client_address);
        res.set("X-Request-ID", request_id);
        res.keep_alive(request.keep_alive() && !stopping_);
        stream.expires_after(options_.read_timeout);
        auto [write_ec, written] = co_await beast_http::async_write(stream, res, kNoThrow);
        if (write_ec || !res.keep_alive()) {
            break;
        }
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> Server::LingeringClose(Session& session) {
    auto& stream = session.stream;
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    session.idle = true;  // nothing more to answer: Stop() may cut it short
    const auto deadline = std::chrono::steady_clock::now() + options_.linger_timeout;
    std::array<char, 16 * 1024> scratch{};
    std::uint64_t drained = 0;
    while (drained < options_.linger_bytes && !stopping_) {
        stream.expires_at(deadline);
        auto [ec, bytes] = co_await stream.async_read_some(asio::buffer(scratch), kNoThrow);
        if (ec) {
            break;  // the client closed (eof), the time is up, or the socket failed: close now
        }
        drained += bytes;
    }
}

asio::awaitable<Response> Server::Dispatch(const Request& request, std::string request_id, std::string client_address) {
    const auto started = std::chrono::steady_clock::now();
    const auto match = router_.Find(request.method(), PathOf(request.target()));
    const std::string route = match.route != nullptr ? match.route->pattern : "unmatched";
    Context ctx{request, std::move(request_id), match.params, {}, std::move(client_address)};
    Response res;
    try {
        if (match.route == nullptr) {
            throw HttpError(match.path_known ? Status::method_not_allowed : Status::not_found,
                            match.path_known ? "method not allowed" : "no such endpoint");
        }
        if (match.route->access == Access::kAuthenticated) {
            const auto token = BearerToken(request);
            const auto subject = token ? verify_(*token) : std::nullopt;
            if (!subject) {
                throw HttpError(Status::unauthorized, token ? "invalid or expired token" : "missing bearer token");
            }
            ctx.user_id = *subject;
        }
        res = co_await match.route->handler(ctx);
    } catch (const HttpError& e) {
        res = ErrorResponse(e.status(), e.what(), ctx.request_id);
        if (const auto retry = e.retry_after()) {
            res.set(beast_http::field::retry_after, std::to_string(retry->count()));
        }
    } catch (const UnavailableError& e) {
        log::Warn("dependency unavailable", {{"request_id", ctx.request_id}, {"route", route}, {"error", e.what()}});
        res = ErrorResponse(Status::service_unavailable, "temporarily unavailable, retry later", ctx.request_id);
        res.set(beast_http::field::retry_after, "1");
    } catch (const std::exception& e) {
        log::Error("handler failed", {{"request_id", ctx.request_id}, {"route", route}, {"error", e.what()}});
        res = ErrorResponse(Status::internal_server_error, "internal error", ctx.request_id);
    }
    const auto status = std::to_string(res.result_int());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const std::string method = MethodLabel(request);
    metrics_
        .GetCounter("http_requests_total", "HTTP requests served.",
                    {{"route", route}, {"method", method}, {"status", status}})
        .Add();
    metrics_.GetHistogram("http_request_duration_seconds", "HTTP request latency.", {{"route", route}})
        .Observe(seconds);
    co_return res;
}

asio::awaitable<void> Server::Upgrade(const std::shared_ptr<Session>& session, const Request& request,
                                      const std::string& request_id, const Router::Match& match) {
    const std::string route = match.route->pattern;
    Context ctx{request, request_id, match.params, {}, session->client_address};
    auto refusal = CheckUpgrade(request, match, ctx);
    const std::string method = MethodLabel(request);
    if (refusal) {
        refusal->set("X-Request-ID", request_id);
        refusal->keep_alive(false);
        session->stream.expires_after(options_.read_timeout);
        co_await beast_http::async_write(session->stream, *refusal, kNoThrow);
        metrics_
            .GetCounter("http_requests_total", "HTTP requests served.",
                        {{"route", route}, {"method", method}, {"status", std::to_string(refusal->result_int())}})
            .Add();
        co_return;
    }
    auto impl = std::make_shared<WebSocket::Impl>(session->stream, session, options_.websocket);
    session->upgraded = true;
    impl->ws.set_option(beast::websocket::stream_base::decorator(
        [&request_id](beast::websocket::response_type& res) { res.set("X-Request-ID", request_id); }));
    auto [ec] = co_await impl->ws.async_accept(request, kNoThrow);
    metrics_
        .GetCounter("http_requests_total", "HTTP requests served.",
                    {{"route", route}, {"method", method}, {"status", ec ? "400" : "101"}})
        .Add();
    if (ec) {
        impl->Shutdown();
        co_return;
    }
    metrics_.GetCounter("websocket_opened_total", "WebSocket connections opened.", {{"route", route}}).Add();
    WebSocket socket(impl);
    try {
        co_await match.route->on_upgrade(ctx, socket);
    } catch (const std::exception& e) {
        log::Error("websocket handler failed", {{"request_id", request_id}, {"route", route}, {"error", e.what()}});
    }
    metrics_.GetCounter("websocket_closed_total", "WebSocket connections closed.", {{"route", route}}).Add();
    impl->Shutdown();
}

std::optional<Response> Server::CheckUpgrade(const Request& request, const Router::Match& match, Context& ctx) const {
    if (!beast::websocket::is_upgrade(request)) {
        return ErrorResponse(Status::bad_request, "expected a WebSocket upgrade", ctx.request_id);
    }
    if (match.route->access == Access::kAuthenticated) {
        std::optional<std::string> token;
        if (const auto bearer = BearerToken(request)) {
            token = std::string(*bearer);
        } else {
            token = ctx.Query("token");
        }
        const auto subject = token ? verify_(*token) : std::nullopt;
        if (!subject) {
            return ErrorResponse(Status::unauthorized, token ? "invalid or expired token" : "missing bearer token",
                                 ctx.request_id);
        }
        ctx.user_id = *subject;
    }
    return std::nullopt;
}

void AddOpsRoutes(Router& router, metrics::Registry& metrics, std::function<asio::awaitable<bool>()> ready) {
    router.Add(Verb::get, "/healthz", Access::kPublic, [](Context&) -> asio::awaitable<Response> {
        co_return JsonResponse(Status::ok, {{"status", "ok"}});
    });
    router.Add(Verb::get, "/readyz", Access::kPublic, [ready](Context& ctx) -> asio::awaitable<Response> {
        if (co_await ready()) {
            co_return JsonResponse(Status::ok, {{"status", "ready"}});
        }
        co_return ErrorResponse(Status::service_unavailable, "dependencies not reachable", ctx.request_id);
    });
    router.Add(Verb::get, "/metrics", Access::kPublic, [&metrics](Context&) -> asio::awaitable<Response> {
        Response res{Status::ok, 11};
        res.set(beast_http::field::content_type, "text/plain; version=0.0.4");
        res.body() = metrics.Render();
        res.prepare_payload();
        co_return res;
    });
}

}  // namespace sn::http
