#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "http/types.hpp"

namespace sn::http {

struct WebSocketOptions {
    std::size_t max_queued = 256;           // a client this many messages behind is disconnected
    std::size_t read_limit = 4096;          // clients only listen: anything larger from them is an error
    std::chrono::seconds idle_timeout{60};  // pinged at half of it; no answer by the end closes
};

/// The server side of an upgraded connection: text messages out, in order; whatever the client
/// sends is read and dropped. A cheap, copyable handle: copies refer to the same connection.
class WebSocket {
   public:
    struct Impl;
    explicit WebSocket(std::shared_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}

    /// Queues a text message; thread-safe, never blocks. After the connection closed it does nothing.
    void Send(std::string text) const;
    /// Reads (answering pings, dropping data) until the client closes, the connection breaks or
    /// idles past its deadline, or Close() is called. The handler's job ends when this returns.
    [[nodiscard]] boost::asio::awaitable<void> Serve() const;
    /// Drops the connection; thread-safe.
    void Close() const;
    /// The same connection (for containers of handles).
    [[nodiscard]] const void* Id() const noexcept { return impl_.get(); }

   private:
    std::shared_ptr<Impl> impl_;
};

/// Runs after the upgrade (and, on kAuthenticated routes, the token check: ctx.user_id is set);
/// it typically registers the socket somewhere, co_awaits socket.Serve(), and unregisters.
using WebSocketHandler = std::function<boost::asio::awaitable<void>(Context&, WebSocket&)>;

}  // namespace sn::http
