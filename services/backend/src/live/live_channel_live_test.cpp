// Needs the RabbitMQ that `make test` starts (AMQP_URL overrides where). Where the live channel's
// threads meet: its broker thread delivers to WebSockets that the server's I/O threads (two, as
// in the services) add, serve and remove; `make tsan` runs this under ThreadSanitizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <cstdlib>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "amqp/publisher.hpp"
#include "common/ids.hpp"
#include "feed/events.hpp"
#include "http/server.hpp"
#include "live/live_channel.hpp"

namespace backend {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using std::chrono::milliseconds;

sn::amqp::ConnectionOptions Broker() {
    const char* url = std::getenv("AMQP_URL");
    auto options = sn::amqp::ParseUrl(url != nullptr ? url : "amqp://guest:guest@127.0.0.1:55672/");
    options.name = "backend_live_test";
    return options;
}

/// The feed's live channel behind a server on two I/O threads; a bearer token is its user id.
class LiveChannelTest : public ::testing::Test {
   protected:
    LiveChannelTest() : channel_(FeedLiveSource(), Broker(), metrics_) {
        AddLiveRoute(router_, "/live", channel_);
        sn::http::ServerOptions options;
        options.port = 0;
        server_ = std::make_unique<sn::http::Server>(
            io_, options, router_, [](std::string_view token) { return std::optional<std::string>(token); }, metrics_);
        server_->Start();
        for (int i = 0; i < 2; ++i) {
            threads_.emplace_back([this] { io_.run(); });
        }
    }
    ~LiveChannelTest() override {
        channel_.Stop();
        server_->Stop();
        work_.reset();
        io_.stop();
        for (auto& thread : threads_) {
            thread.join();
        }
    }

    /// Publishes the texts to the user's live feed, as the fan-out does.
    void Publish(const std::string& user, const std::vector<std::string>& texts) {
        std::vector<sn::amqp::OutgoingMessage> messages;
        for (const auto& text : texts) {
            messages.push_back(
                {.exchange = std::string(feed::kPostPosted), .routing_key = user, .body = text, .mandatory = false});
        }
        const auto confirmed = publisher_.PublishBatch(messages, milliseconds(5000));
        ASSERT_EQ(std::count(confirmed.begin(), confirmed.end(), true), static_cast<long>(texts.size()));
    }

    sn::metrics::Registry metrics_;
    LiveChannel channel_;  // outlives the io_context: its last coroutines remove their sockets
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    sn::http::Router router_;
    std::unique_ptr<sn::http::Server> server_;
    std::vector<std::thread> threads_;
    sn::amqp::Publisher publisher_{Broker()};
};

/// A WebSocket client of the live route, on its own io_context driven by the test's thread.
class Client {
   public:
    Client(std::uint16_t port, const std::string& token) {
        ws_.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
        ws_.set_option(websocket::stream_base::decorator(
            [token](websocket::request_type& req) { req.set(beast::http::field::authorization, "Bearer " + token); }));
        ws_.handshake("127.0.0.1", "/live");
    }

    /// The next message, or nothing when none came within `timeout` (a read left waiting goes on).
    std::optional<std::string> Read(milliseconds timeout) {
        if (!reading_) {
            reading_ = true;
            ws_.async_read(buffer_, [this](beast::error_code ec, std::size_t) {
                reading_ = false;
                done_ = true;
                failed_ = static_cast<bool>(ec);
            });
        }
        io_.restart();
        io_.run_for(timeout);
        if (!done_ || failed_) {
            return std::nullopt;
        }
        done_ = false;
        auto text = beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
        return text;
    }

    /// The messages up to and including `last`, leaving out the pings of the warm-up.
    std::vector<std::string> ReadUntil(const std::string& last) {
        std::vector<std::string> texts;
        while (texts.empty() || texts.back() != last) {
            const auto text = Read(milliseconds(5000));
            if (!text) {
                break;
            }
            if (!text->starts_with("ping")) {
                texts.push_back(*text);
            }
        }
        return texts;
    }

   private:
    asio::io_context io_;
    beast::flat_buffer buffer_;
    websocket::stream<asio::ip::tcp::socket> ws_{io_};
    bool reading_ = false;
    bool done_ = false;
    bool failed_ = false;
};

std::vector<std::string> Texts(const std::string& prefix, int n) {
    std::vector<std::string> texts;
    for (int i = 0; i < n; ++i) {
        texts.push_back(prefix + std::to_string(i));
    }
    return texts;
}

TEST_F(LiveChannelTest, DeliversInOrderToEveryConnectionOfTheUserWhileOthersComeAndGo) {
    ASSERT_TRUE([this] {
        for (int i = 0; i < 200 && !channel_.Consuming(); ++i) {
            std::this_thread::sleep_for(milliseconds(50));
        }
        return channel_.Consuming();
    }());
    const auto user = sn::ids::NewUuid();
    auto first = std::make_unique<Client>(server_->Port(), user);
    Client second(server_->Port(), user);
    // The channel's thread binds the user's key within ~100 ms of the first connection; until
    // then a message for the user reaches nobody.
    std::optional<std::string> warm;
    for (int i = 0; i < 50 && !warm; ++i) {
        Publish(user, {"ping" + std::to_string(i)});
        warm = first->Read(milliseconds(200));
    }
    ASSERT_TRUE(warm);

    Publish(user, Texts("m", 50));
    EXPECT_EQ(first->ReadUntil("m49"), Texts("m", 50));
    EXPECT_EQ(second.ReadUntil("m49"), Texts("m", 50));

    // Others connect and leave on the I/O threads while the channel's thread delivers.
    std::vector<std::unique_ptr<Client>> passing;
    for (int i = 0; i < 4; ++i) {
        passing.push_back(std::make_unique<Client>(server_->Port(), i % 2 == 0 ? user : sn::ids::NewUuid()));
    }
    first.reset();
    Publish(user, Texts("n", 20));
    passing.clear();
    EXPECT_EQ(second.ReadUntil("n19"), Texts("n", 20));
}

}  // namespace
}  // namespace backend
