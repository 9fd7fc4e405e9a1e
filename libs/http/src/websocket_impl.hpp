#pragma once

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <memory>
#include <string>

#include "http/websocket.hpp"

namespace sn::http {

/// The state of one upgraded connection; touched only on the connection's strand.
struct WebSocket::Impl {
    Impl(boost::beast::tcp_stream& stream, std::shared_ptr<void> owner, const WebSocketOptions& opts);
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    void Shutdown();
    static void WriteNext(const std::shared_ptr<Impl>& self);

    boost::beast::websocket::stream<boost::beast::tcp_stream&> ws;
    std::shared_ptr<void> keep_alive;  // the HTTP session that owns the TCP stream
    WebSocketOptions options;
    std::deque<std::string> queue;
    bool writing = false;
    bool closed = false;
};

}  // namespace sn::http
