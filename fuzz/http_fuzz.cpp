// HTTP requests through the three services' real routers and handlers, from the bytes a client
// sends: Beast's request parser with the server's limits, then Server::Dispatch (routing, token
// check, handler, exceptions to statuses) or, on the WebSocket route, Server::CheckUpgrade.
// Storage is unreachable (PostgreSQL on a socket folder that does not exist, Redis, RabbitMQ and
// the gateway's upstreams on a closed port), so a request that passes validation ends in 503: what
// is fuzzed is everything a request goes through before it would reach a database.
//
// First byte: which service (backend, dialogs, counters). The rest: one or more pipelined requests.
// `$TOKEN` stands for a genuine bearer token of fuzz::kUserId. Findings besides the sanitizers':
// a 500 (an exception the handlers did not expect) or a response body that is not JSON.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/parse.hpp>
#include <cstdint>
#include <memory>

#include "common/log.hpp"
#include "feed/feed_service.hpp"
#include "fuzz_support.hpp"
#include "handlers/counters.hpp"
#include "handlers/dialogs.hpp"
#include "handlers/friends.hpp"
#include "handlers/gateway.hpp"
#include "handlers/posts.hpp"
#include "handlers/users.hpp"
#include "http/client.hpp"
#include "http/server.hpp"
#include "live/live_channel.hpp"
#include "redis/pool.hpp"
#include "storage/user_repository.hpp"

namespace {

namespace asio = boost::asio;
namespace http = sn::http;
using sn::fuzz::Fail;

constexpr auto kNoDatabase = "host=/nonexistent-sn-fuzz dbname=fuzz";
constexpr auto kClosedPort = "http://127.0.0.1:1";

sn::redis::Options NoRedis() {
    sn::redis::Options options;
    options.port = 1;
    return options;
}

sn::amqp::ConnectionOptions NoBroker() {
    sn::amqp::ConnectionOptions options;
    options.addresses = {{"127.0.0.1", 1}};
    return options;
}

/// The three services' routes, wired as their main.cpp does, onto storage nobody can reach.
struct Services {
    Services()
        : keys(sn::fuzz::FixedKeys()),
          verifier(keys),
          signer(keys, std::chrono::hours(24 * 365 * 50)),
          token(signer.Issue(sn::fuzz::kUserId)),
          db(io.get_executor(), kNoDatabase, 2, std::chrono::milliseconds(100)),
          search_db(io.get_executor(), kNoDatabase, 1, std::chrono::milliseconds(100)),
          users(db, db, search_db),
          dialogs_upstream(io.get_executor(), kClosedPort),
          counters_upstream(io.get_executor(), kClosedPort),
          cache(io.get_executor(), NoRedis(), 1),
          feed(db, db, cache, 10'000, metrics),
          live(backend::FeedLiveSource(), NoBroker(), metrics),
          live_dialogs(backend::DialogLiveSource(), NoBroker(), metrics),
          hashes(32),
          limiter(cache, backend::LoginLimits{}, metrics),
          passwords{hashes, limiter, metrics.GetCounter("password_hashes_refused_total", "Refused hashes.")},
          sender(db, {}, dialogs::SendInBatches(metrics)) {
        backend::AddUserRoutes(backend_router, users, signer, passwords);
        backend::AddGatewayRoutes(backend_router, users, dialogs_upstream, counters_upstream);
        backend::AddFriendRoutes(backend_router, db, feed);
        backend::AddPostRoutes(backend_router, db, feed);
        backend::AddLiveRoute(backend_router, "/post/feed/posted", live);
        backend::AddLiveRoute(backend_router, "/dialog/live", live_dialogs);
        dialogs::AddDialogRoutes(dialogs_router, db, sender, true);
        counters::AddCounterRoutes(counters_router, db);
        for (auto* router : {&backend_router, &dialogs_router, &counters_router}) {
            http::AddOpsRoutes(*router, metrics, []() -> asio::awaitable<bool> { co_return false; });
            const auto verify = [this](std::string_view t) { return verifier.Verify(t); };
            servers.push_back(std::make_unique<http::Server>(io, http::ServerOptions{}, *router, verify, metrics));
        }
    }

    asio::io_context io;
    sn::metrics::Registry metrics;
    sn::auth::KeyPair keys;
    sn::auth::TokenVerifier verifier;
    sn::auth::TokenSigner signer;
    std::string token;
    sn::pg::Pool db;
    sn::pg::Pool search_db;
    backend::UserRepository users;
    http::Upstream dialogs_upstream;
    http::Upstream counters_upstream;
    sn::redis::Pool cache;
    backend::feed::FeedService feed;
    backend::LiveChannel live;
    backend::LiveChannel live_dialogs;
    sn::auth::HashAdmission hashes;
    backend::LoginLimiter limiter;
    backend::Passwords passwords;
    dialogs::MessageSender sender;
    http::Router backend_router;
    http::Router dialogs_router;
    http::Router counters_router;
    std::vector<std::unique_ptr<http::Server>> servers;
};

Services& TheServices() {
    static auto* services = new Services();  // never destroyed: libFuzzer exits without unwinding
    return *services;
}

void CheckResponse(const http::Response& res) {
    if (res.result_int() == 500) {
        Fail("500", res.body());
    }
    if (res.result_int() < 100 || res.result_int() > 599) {
        Fail("status out of range", std::to_string(res.result_int()));
    }
    if (res[http::beast_http::field::content_type] == "application/json") {
        boost::system::error_code ec;
        (void)boost::json::parse(res.body(), ec);
        if (ec) {
            Fail("response body is not JSON", res.body());
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    sn::log::SetLevel("error");  // every request that passes validation warns that the database is down
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) {
        return 0;
    }
    auto& services = TheServices();
    auto& server = *services.servers[data[0] % services.servers.size()];
    const auto text =
        sn::fuzz::WithToken(std::string(reinterpret_cast<const char*>(data) + 1, size - 1), services.token);
    asio::const_buffer rest(text.data(), text.size());
    // Pipelined requests, as Serve reads them from one connection; at most a few per input.
    for (int requests = 0; requests < 4 && rest.size() > 0; ++requests) {
        http::beast_http::request_parser<http::beast_http::string_body> parser;
        parser.eager(true);
        parser.body_limit(server.Options().body_limit);
        parser.header_limit(server.Options().header_limit);
        boost::system::error_code ec;
        const auto used = parser.put(rest, ec);
        rest += used;
        if (!ec && !parser.is_done()) {
            parser.put_eof(ec);  // the client closed: what came is all there is
        }
        if (ec) {
            (void)http::RequestIdOf(parser.get());  // Serve answers 400/413 with it, then closes
            return 0;
        }
        const auto& request = parser.get();
        auto request_id = http::RequestIdOf(request);
        const auto target = request.target();
        const auto path = target.substr(0, target.find('?'));
        const auto match = (data[0] % 3 == 0   ? services.backend_router
                            : data[0] % 3 == 1 ? services.dialogs_router
                                               : services.counters_router)
                               .Find(request.method(), path);
        if (match.route != nullptr && match.route->on_upgrade) {
            http::Context ctx{request, request_id, match.params, {}};
            if (const auto refusal = server.CheckUpgrade(request, match, ctx)) {
                CheckResponse(*refusal);
            } else if (ctx.user_id != sn::fuzz::kUserId) {
                Fail("upgrade accepted for someone else", ctx.user_id);
            }
            return 0;  // Serve hands the connection to the WebSocket: nothing more is read as HTTP
        }
        CheckResponse(sn::fuzz::RunToEnd(services.io, server.Dispatch(request, std::move(request_id))));
        if (!request.keep_alive()) {
            return 0;
        }
    }
    return 0;
}
