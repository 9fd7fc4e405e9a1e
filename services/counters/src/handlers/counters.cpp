#include "handlers/counters.hpp"

#include <boost/json/array.hpp>

#include "http/input.hpp"
#include "storage/counters.hpp"

namespace counters {

using sn::http::Access;
using sn::http::Context;
using sn::http::JsonResponse;
using sn::http::Response;
using sn::http::Status;
using sn::http::Verb;
using Awaitable = boost::asio::awaitable<Response>;

void AddCounterRoutes(sn::http::Router& router, sn::pg::Pool& db) {
    // No database, no broker: the HTTP ceiling of an authenticated request, for the benchmarks'
    // baselines (bench/http_ceiling.sh); the token is verified exactly as for the real routes.
    router.Add(Verb::get, "/counters/ping", Access::kAuthenticated, [](Context&) -> Awaitable {
        co_return JsonResponse(Status::ok, {{"ok", true}});
    });

    router.Add(Verb::get, "/counters/unread", Access::kAuthenticated, [&db](Context& ctx) -> Awaitable {
        const auto peers =
            co_await db.Run([&ctx](sn::pg::Connection& conn) { return CounterStore::ForRecipient(conn, ctx.user_id); });
        std::int64_t total = 0;
        boost::json::array items;
        items.reserve(peers.size());
        for (const auto& peer : peers) {
            total += peer.count;
            items.push_back({{"user_id", peer.user_id}, {"count", peer.count}});
        }
        co_return JsonResponse(Status::ok, {{"total", total}, {"dialogs", std::move(items)}});
    });

    router.Add(Verb::get, "/counters/{user_id}/unreadMessages", Access::kAuthenticated,
               [&db](Context& ctx) -> Awaitable {
                   const auto peer = sn::http::input::Uuid(ctx.Param("user_id"), "user_id");
                   const auto count = co_await db.Run(
                       [&](sn::pg::Connection& conn) { return CounterStore::Between(conn, peer, ctx.user_id); });
                   co_return JsonResponse(Status::ok, {{"user_id", peer}, {"count", count}});
               });
}

}  // namespace counters
