#include "http/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <thread>
#include <vector>

#include "common/errors.hpp"
#include "http/client.hpp"

namespace sn::http {
namespace {

namespace asio = boost::asio;

/// A real server on an ephemeral loopback port, driven through the pooled client.
class ServerTest : public ::testing::Test {
   protected:
    ServerTest() {
        router_.Add(Verb::get, "/echo/{word}", Access::kPublic, [](Context& ctx) -> asio::awaitable<Response> {
            co_return JsonResponse(Status::ok, {{"word", ctx.Param("word")}});
        });
        router_.Add(Verb::get, "/me", Access::kAuthenticated, [](Context& ctx) -> asio::awaitable<Response> {
            co_return JsonResponse(Status::ok, {{"user_id", ctx.user_id}});
        });
        router_.Add(Verb::post, "/size", Access::kPublic, [](Context& ctx) -> asio::awaitable<Response> {
            co_return JsonResponse(Status::ok, {{"size", ctx.request.body().size()}});
        });
        router_.Add(Verb::get, "/down", Access::kPublic, [](Context&) -> asio::awaitable<Response> {
            throw UnavailableError("database is down");
            co_return Response{};
        });
        router_.Add(Verb::get, "/boom", Access::kPublic, [](Context&) -> asio::awaitable<Response> {
            throw std::logic_error("bug");
            co_return Response{};
        });
        ServerOptions options;
        options.port = 0;
        options.body_limit = 1024;
        server_ = std::make_unique<Server>(
            io_, options, router_,
            [](std::string_view token) -> std::optional<std::string> {
                return token == "good" ? std::optional<std::string>("user-1") : std::nullopt;
            },
            metrics_);
        server_->Start();
        client_ = std::make_unique<Upstream>(io_.get_executor(), "http://127.0.0.1:" + std::to_string(server_->Port()));
        // Two I/O threads, as the services run by default (THREADS=2).
        for (int i = 0; i < 2; ++i) {
            threads_.emplace_back([this] { io_.run(); });
        }
    }

    ~ServerTest() override {
        server_->Stop();
        client_.reset();
        work_.reset();
        io_.stop();
        for (auto& thread : threads_) {
            thread.join();
        }
    }

    Response Send(Verb verb, std::string target, std::string body = {},
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
        Request req{verb, target, 11};
        req.body() = std::move(body);
        for (const auto& [name, value] : headers) {
            req.set(name, value);
        }
        return asio::co_spawn(io_, client_->Send(req), asio::use_future).get();
    }

    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    Router router_;
    metrics::Registry metrics_;
    std::unique_ptr<Server> server_;
    std::unique_ptr<Upstream> client_;
    std::vector<std::thread> threads_;
};

boost::json::object Body(const Response& res) { return boost::json::parse(res.body()).as_object(); }

TEST_F(ServerTest, RoutesWithParametersAndEchoesRequestId) {
    const auto res = Send(Verb::get, "/echo/hello", {}, {{"X-Request-ID", "abc-123"}});
    EXPECT_EQ(res.result(), Status::ok);
    EXPECT_EQ(Body(res).at("word").as_string(), "hello");
    EXPECT_EQ(res["X-Request-ID"], "abc-123");
}

TEST_F(ServerTest, ReplacesUnsafeRequestIdWithGeneratedOne) {
    const auto res = Send(Verb::get, "/echo/x", {}, {{"X-Request-ID", "bad id!"}});
    EXPECT_EQ(res["X-Request-ID"].size(), 32U);
}

TEST_F(ServerTest, UnknownPathAndWrongMethodGetJsonErrors) {
    const auto missing = Send(Verb::get, "/nope", {}, {{"X-Request-ID", "r1"}});
    EXPECT_EQ(missing.result(), Status::not_found);
    EXPECT_EQ(Body(missing).at("code").as_int64(), 404);
    EXPECT_EQ(Body(missing).at("request_id").as_string(), "r1");
    EXPECT_EQ(Send(Verb::delete_, "/echo/x").result(), Status::method_not_allowed);
}

TEST_F(ServerTest, AuthenticatedRoutesNeedAGenuineBearerToken) {
    EXPECT_EQ(Send(Verb::get, "/me").result(), Status::unauthorized);
    EXPECT_EQ(Send(Verb::get, "/me", {}, {{"Authorization", "Bearer bad"}}).result(), Status::unauthorized);
    EXPECT_EQ(Send(Verb::get, "/me", {}, {{"Authorization", "Basic good"}}).result(), Status::unauthorized);
    const auto ok = Send(Verb::get, "/me", {}, {{"Authorization", "Bearer good"}});
    EXPECT_EQ(ok.result(), Status::ok);
    EXPECT_EQ(Body(ok).at("user_id").as_string(), "user-1");
}

TEST_F(ServerTest, OversizedBodyIs413AndNeverReachesTheHandler) {
    EXPECT_EQ(Body(Send(Verb::post, "/size", std::string(1000, 'x'))).at("size").as_int64(), 1000);
    const auto res = Send(Verb::post, "/size", std::string(5000, 'x'));
    EXPECT_EQ(res.result(), Status::payload_too_large);
    EXPECT_EQ(Body(res).at("code").as_int64(), 413);
}

// A client that writes its whole oversized body before reading (as Python's urllib does) must
// read the 413, not a connection reset: closing with its bytes unread would send it a reset.
TEST_F(ServerTest, ClientWritingAWholeOversizedBodyStillReadsThe413) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), server_->Port()});
    const std::string body(8 * 1024 * 1024, 'x');
    std::string head = "POST /size HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ";
    head.append(std::to_string(body.size())).append("\r\n\r\n");
    boost::system::error_code ec;
    asio::write(socket, asio::buffer(head), ec);
    ASSERT_FALSE(ec) << ec.message();
    asio::write(socket, asio::buffer(body), ec);
    ASSERT_FALSE(ec) << "writing the body: " << ec.message();
    std::string answer;
    asio::read(socket, asio::dynamic_buffer(answer), ec);  // until the server closes
    EXPECT_EQ(ec, asio::error::eof) << ec.message();
    EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 413") << answer.substr(0, 200);
}

TEST_F(ServerTest, ExceptionsBecomeStatusesInOnePlace) {
    const auto down = Send(Verb::get, "/down");
    EXPECT_EQ(down.result(), Status::service_unavailable);
    EXPECT_EQ(down[beast_http::field::retry_after], "1");
    EXPECT_EQ(Send(Verb::get, "/boom").result(), Status::internal_server_error);
}

TEST_F(ServerTest, CountsRequestsPerRouteAndStatus) {
    (void)Send(Verb::get, "/echo/a");
    (void)Send(Verb::get, "/echo/b");
    const auto text = metrics_.Render();
    EXPECT_NE(text.find(R"(http_requests_total{route="/echo/{word}",method="GET",status="200"} 2)"), std::string::npos)
        << text;
}

// Found while writing fuzz/http_fuzz.cpp: the method label was the text of any method the client
// made up, so each new one added a metrics series for good (memory without bound, /metrics too).
TEST_F(ServerTest, MadeUpMethodsShareOneMetricsLabel) {
    for (int i = 0; i < 3; ++i) {
        Request req;
        req.method_string("MADEUP" + std::to_string(i));
        req.target("/nope");
        req.version(11);
        const auto res = asio::co_spawn(io_, server_->Dispatch(req, "r"), asio::use_future).get();
        EXPECT_EQ(res.result(), Status::not_found);
    }
    const auto text = metrics_.Render();
    EXPECT_NE(text.find(R"(http_requests_total{route="unmatched",method="other",status="404"} 3)"), std::string::npos)
        << text;
    EXPECT_EQ(text.find("MADEUP"), std::string::npos) << text;
}

TEST_F(ServerTest, UpstreamSurvivesTheServiceRestarting) {
    // Park several keep-alive connections, then restart the service on the same port.
    for (int i = 0; i < 4; ++i) {
        ASSERT_EQ(Send(Verb::get, "/echo/x").result(), Status::ok);
    }
    const auto port = server_->Port();
    server_->Stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ServerOptions options;
    options.port = port;
    Server restarted(
        io_, options, router_, [](std::string_view) { return std::nullopt; }, metrics_);
    restarted.Start();
    // A POST is never sent twice, so it must not be written to a connection the old process left.
    EXPECT_EQ(Send(Verb::post, "/size", "abc").result(), Status::ok);
    EXPECT_EQ(Send(Verb::get, "/echo/y").result(), Status::ok);
    restarted.Stop();
}

TEST(Upstream, UnreachableServiceIs503) {
    asio::io_context io;
    Upstream client(io.get_executor(), "http://127.0.0.1:1");
    const Request request{Verb::get, "/", 11};
    auto future = asio::co_spawn(io, client.Send(request), asio::use_future);
    io.run();
    try {
        (void)future.get();
        FAIL() << "expected an error";
    } catch (const HttpError& e) {
        EXPECT_EQ(e.status(), Status::service_unavailable);
    }
}

}  // namespace
}  // namespace sn::http
