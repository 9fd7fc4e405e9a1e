#include "http/websocket.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "websocket_impl.hpp"

namespace sn::http {

namespace asio = boost::asio;
namespace beast = boost::beast;

WebSocket::Impl::Impl(beast::tcp_stream& stream, std::shared_ptr<void> owner, const WebSocketOptions& opts)
    : ws(stream), keep_alive(std::move(owner)), options(opts) {
    stream.expires_never();  // the websocket's own timeouts take over
    beast::websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(10);
    timeouts.idle_timeout = options.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws.set_option(timeouts);
    ws.read_message_max(options.read_limit);
    ws.auto_fragment(false);
    ws.text(true);
}

void WebSocket::Impl::Shutdown() {
    closed = true;
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws).socket().close(ignored);
}

// Only on the connection's strand.
void WebSocket::Impl::WriteNext(const std::shared_ptr<Impl>& self) {
    if (self->writing || self->closed || self->queue.empty()) {
        return;
    }
    self->writing = true;
    self->ws.async_write(asio::buffer(self->queue.front()), [self](boost::system::error_code ec, std::size_t) {
        self->writing = false;
        self->queue.pop_front();
        if (ec) {
            self->Shutdown();
            return;
        }
        WriteNext(self);
    });
}

void WebSocket::Send(std::string text) const {
    asio::post(impl_->ws.get_executor(), [self = impl_, message = std::move(text)]() mutable {
        if (self->closed) {
            return;
        }
        if (self->queue.size() >= self->options.max_queued) {
            self->Shutdown();  // a slow reader must not hold unbounded memory
            return;
        }
        self->queue.push_back(std::move(message));
        Impl::WriteNext(self);
    });
}

void WebSocket::Close() const {
    asio::post(impl_->ws.get_executor(), [self = impl_] { self->Shutdown(); });
}

asio::awaitable<void> WebSocket::Serve() const {
    auto& self = *impl_;
    beast::flat_buffer buffer;
    while (!self.closed) {
        auto [ec, bytes] = co_await self.ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
        if (ec) {
            break;  // closed by the client, timed out, or dropped: all normal ends
        }
        buffer.consume(buffer.size());
    }
    self.Shutdown();
}

}  // namespace sn::http
