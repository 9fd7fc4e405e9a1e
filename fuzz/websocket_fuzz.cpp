// The live feed's WebSocket as a client reaches it: an upgrade request (Beast's handshake checks,
// after Server::CheckUpgrade has let it through), then whatever frames the client sends, read by
// the real WebSocket::Serve with the server's options (read limit, pings) while the server sends
// to the client. Input: the upgrade request up to the first blank line, then raw frame bytes.
// The connection is a real loopback TCP pair, as the server's streams are tcp_streams.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>

#include "fuzz_support.hpp"
#include "http/server.hpp"
#include "websocket_impl.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = sn::http;
using asio::ip::tcp;

struct Loopback {
    asio::io_context io;
    tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static auto* loop = new Loopback();
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto blank = input.find("\r\n\r\n");
    if (blank == std::string_view::npos) {
        return 0;
    }
    http::beast_http::request_parser<http::beast_http::string_body> parser;
    parser.header_limit(http::ServerOptions{}.header_limit);
    boost::system::error_code ec;
    parser.put(asio::buffer(input.data(), blank + 4), ec);
    if (ec || !parser.is_header_done() || !beast::websocket::is_upgrade(parser.get())) {
        return 0;  // Serve answers it as HTTP (the http target covers that)
    }
    const auto frames = input.substr(blank + 4);

    tcp::socket client(loop->io);
    client.connect(loop->acceptor.local_endpoint());
    // Owned as the server's session owns it: the connection's last completions (a write failing after
    // the client left) may run in a later iteration, and must still find the stream.
    auto server = std::make_shared<beast::tcp_stream>(loop->acceptor.accept());
    // The client's bytes are all sent (and its side shut) before the server reads: small inputs fit
    // in the socket buffers, so nobody waits.
    asio::write(client, asio::buffer(frames.data(), frames.size()), ec);
    client.shutdown(tcp::socket::shutdown_send, ec);

    http::WebSocketOptions options;
    options.idle_timeout = std::chrono::seconds(2);
    auto impl = std::make_shared<http::WebSocket::Impl>(*server, server, options);
    const auto& request = parser.get();
    (void)sn::fuzz::RunToEnd(loop->io, [&]() -> asio::awaitable<bool> {
        auto [accept_ec] = co_await impl->ws.async_accept(request, asio::as_tuple(asio::use_awaitable));
        if (accept_ec) {
            impl->Shutdown();
            co_return false;
        }
        const http::WebSocket socket(impl);
        socket.Send(R"({"postId":"1","postText":"hello","author_user_id":"2"})");
        co_await socket.Serve();
        co_return true;
    }());
    // What the server wrote is drained so the next connection starts clean.
    boost::system::error_code ignored;
    client.close(ignored);
    return 0;
}
