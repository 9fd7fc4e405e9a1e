#include "http/client.hpp"

#include <sys/socket.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <cerrno>
#include <stdexcept>

namespace sn::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// Beast reads into a flat buffer as much as the buffer has room for, and a fresh one has 512
// bytes: a page of 100 messages (22 KB) came in 45 recvmsg calls. With room for 64 KiB (Beast's
// own cap per read) a response arrives in one or two; 64 parked connections hold 4 MiB at most.
constexpr std::size_t kReadRoom = 64 * 1024;

struct Upstream::Connection {
    explicit Connection(asio::any_io_executor executor) : stream(std::move(executor)) { buffer.reserve(kReadRoom); }
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    bool reused = false;
};

Upstream::Upstream(asio::any_io_executor executor, const std::string& base_url, UpstreamOptions options)
    : executor_(std::move(executor)), options_(options) {
    const auto url = boost::urls::parse_absolute_uri(base_url);
    if (!url || url->scheme() != "http" || url->host().empty()) {
        throw std::invalid_argument("upstream URL must be http://host:port, got " + base_url);
    }
    host_ = url->host();
    port_ = url->has_port() ? std::string(url->port()) : "80";
}

Upstream::~Upstream() = default;

namespace {

// True when a parked connection still looks open: nothing to read and no FIN or RST from the
// service. A service that restarted leaves every parked connection closed, and this finds it
// before a request is written to one.
bool LooksOpen(tcp::socket& socket) noexcept {
    char byte = 0;
    const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// Methods a client may send twice without changing the outcome.
bool Idempotent(Verb verb) noexcept {
    return verb == Verb::get || verb == Verb::head || verb == Verb::put || verb == Verb::delete_ ||
           verb == Verb::options;
}

}  // namespace

asio::awaitable<std::unique_ptr<Upstream::Connection>> Upstream::Lease() {
    {
        const std::lock_guard lock(mutex_);
        while (!idle_.empty()) {
            auto connection = std::move(idle_.back());
            idle_.pop_back();
            if (LooksOpen(connection->stream.socket())) {
                connection->reused = true;
                co_return connection;
            }
            // One closed connection means the service went away: the others are closed too.
            idle_.clear();
        }
    }
    auto connection = std::make_unique<Connection>(executor_);
    tcp::resolver resolver(executor_);
    auto [resolve_ec, endpoints] = co_await resolver.async_resolve(host_, port_, kNoThrow);
    if (resolve_ec) {
        throw HttpError(Status::service_unavailable, "upstream " + host_ + " cannot be resolved");
    }
    connection->stream.expires_after(options_.connect_timeout);
    auto [ec, endpoint] = co_await connection->stream.async_connect(endpoints, kNoThrow);
    if (ec) {
        throw HttpError(Status::service_unavailable, "upstream " + host_ + ":" + port_ + " is not reachable");
    }
    boost::system::error_code ignored;
    connection->stream.socket().set_option(tcp::no_delay(true), ignored);
    co_return connection;
}

void Upstream::Park(std::unique_ptr<Connection> connection) {
    const std::lock_guard lock(mutex_);
    if (idle_.size() < options_.max_idle) {
        idle_.push_back(std::move(connection));
    }
}

asio::awaitable<Response> Upstream::Exchange(Connection& connection, const Request& request) {
    connection.stream.expires_after(options_.timeout);
    auto [write_ec, written] = co_await beast_http::async_write(connection.stream, request, kNoThrow);
    if (write_ec) {
        throw boost::system::system_error(write_ec);
    }
    beast_http::response_parser<beast_http::string_body> parser;
    parser.body_limit(options_.body_limit);
    auto [read_ec, read] = co_await beast_http::async_read(connection.stream, connection.buffer, parser, kNoThrow);
    if (read_ec) {
        throw boost::system::system_error(read_ec);
    }
    co_return parser.release();
}

asio::awaitable<Response> Upstream::Send(const Request& original) {
    Request request = original;
    request.set(beast_http::field::host, host_ + ":" + port_);
    request.keep_alive(true);
    request.prepare_payload();
    for (int attempt = 0;; ++attempt) {
        auto connection = co_await Lease();
        const bool reused = connection->reused;
        std::exception_ptr failure;
        boost::system::error_code ec;
        try {
            auto response = co_await Exchange(*connection, request);
            if (response.keep_alive()) {
                Park(std::move(connection));
            }
            co_return response;
        } catch (const boost::system::system_error& e) {
            ec = e.code();
        }
        // A parked connection the service closed just now (idle timeout) fails at once; that is
        // not the service being down. Only a request that may be sent twice is tried once more:
        // a POST may have been applied before the connection broke.
        const bool stale = reused && (ec == beast_http::error::end_of_stream || ec == asio::error::connection_reset ||
                                      ec == asio::error::broken_pipe || ec == asio::error::eof);
        if (stale && attempt == 0 && Idempotent(request.method())) {
            continue;
        }
        if (ec == beast::error::timeout) {
            throw HttpError(Status::gateway_timeout, "upstream " + host_ + ":" + port_ + " did not answer in time");
        }
        if (ec == asio::error::connection_reset || ec == asio::error::connection_refused ||
            ec == beast_http::error::end_of_stream || ec == asio::error::eof) {
            throw HttpError(Status::service_unavailable, "upstream " + host_ + ":" + port_ + " closed the connection");
        }
        throw HttpError(Status::bad_gateway, "upstream " + host_ + ":" + port_ + " answered badly: " + ec.message());
    }
}

}  // namespace sn::http
