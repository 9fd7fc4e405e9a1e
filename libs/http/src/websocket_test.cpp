#include "http/websocket.hpp"

#include <gtest/gtest.h>

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <thread>

#include "http/server.hpp"

namespace sn::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

/// A server whose WebSocket route greets the verified user, then serves until the client leaves.
class WebSocketTest : public ::testing::Test {
   protected:
    WebSocketTest() {
        router_.AddWebSocket("/live", Access::kAuthenticated,
                             [](Context& ctx, WebSocket& socket) -> asio::awaitable<void> {
                                 socket.Send("hello " + ctx.user_id);
                                 socket.Send("bye");
                                 co_await socket.Serve();
                             });
        ServerOptions options;
        options.port = 0;
        server_ = std::make_unique<Server>(
            io_, options, router_,
            [](std::string_view token) -> std::optional<std::string> {
                return token == "good" ? std::optional<std::string>("user-1") : std::nullopt;
            },
            metrics_);
        server_->Start();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~WebSocketTest() override {
        server_->Stop();
        work_.reset();
        io_.stop();
        thread_.join();
    }

    /// Connects a blocking client; the decorator adds headers to the upgrade request.
    void Connect(websocket::stream<tcp::socket>& ws, const std::string& target, const std::string& auth,
                 websocket::response_type& res, beast::error_code& ec) {
        ws.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->Port()));
        ws.set_option(websocket::stream_base::decorator([auth](websocket::request_type& req) {
            if (!auth.empty()) {
                req.set(beast::http::field::authorization, auth);
            }
        }));
        ws.handshake(res, "127.0.0.1", target, ec);
    }

    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    Router router_;
    metrics::Registry metrics_;
    std::unique_ptr<Server> server_;
    std::thread thread_;
};

TEST_F(WebSocketTest, AuthenticatedClientReceivesMessagesInOrder) {
    asio::io_context client;
    websocket::stream<tcp::socket> ws(client);
    websocket::response_type res;
    beast::error_code ec;
    Connect(ws, "/live", "Bearer good", res, ec);
    ASSERT_FALSE(ec) << ec.message();
    EXPECT_FALSE(res["X-Request-ID"].empty());
    beast::flat_buffer buffer;
    ws.read(buffer);
    EXPECT_EQ(beast::buffers_to_string(buffer.data()), "hello user-1");
    buffer.consume(buffer.size());
    ws.read(buffer);
    EXPECT_EQ(beast::buffers_to_string(buffer.data()), "bye");
    ws.close(websocket::close_code::normal);
}

TEST_F(WebSocketTest, TokenInQueryIsAccepted) {
    asio::io_context client;
    websocket::stream<tcp::socket> ws(client);
    websocket::response_type res;
    beast::error_code ec;
    Connect(ws, "/live?token=good", "", res, ec);
    ASSERT_FALSE(ec) << ec.message();
    beast::flat_buffer buffer;
    ws.read(buffer);
    EXPECT_EQ(beast::buffers_to_string(buffer.data()), "hello user-1");
}

TEST_F(WebSocketTest, BadOrMissingTokenIsRefusedBeforeTheUpgrade) {
    for (const std::string auth : {"Bearer bad", ""}) {
        asio::io_context client;
        websocket::stream<tcp::socket> ws(client);
        websocket::response_type res;
        beast::error_code ec;
        Connect(ws, "/live", auth, res, ec);
        EXPECT_EQ(ec, websocket::error::upgrade_declined);
        EXPECT_EQ(res.result_int(), 401);
    }
}

}  // namespace
}  // namespace sn::http
