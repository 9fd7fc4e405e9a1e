#include "handlers/friends.hpp"

#include "feed/events.hpp"
#include "http/input.hpp"
#include "storage/friend_repository.hpp"

namespace backend {

namespace input = sn::http::input;
using sn::http::Access;
using sn::http::Context;
using sn::http::HttpError;
using sn::http::JsonResponse;
using sn::http::Response;
using sn::http::Status;
using sn::http::Verb;
using Awaitable = boost::asio::awaitable<Response>;

namespace {

std::string Friend(const Context& ctx) {
    auto friend_id = input::Uuid(ctx.Param("user_id"), "user_id");
    if (friend_id == ctx.user_id) {
        throw HttpError(Status::bad_request, "user_id must be another user");
    }
    return friend_id;
}

}  // namespace

void AddFriendRoutes(sn::http::Router& router, sn::pg::Pool& db, feed::FeedService& feed) {
    router.Add(Verb::put, "/friend/set/{user_id}", Access::kAuthenticated, [&db, &feed](Context& ctx) -> Awaitable {
        const auto friend_id = Friend(ctx);
        const bool changed = co_await db.Transact([&](sn::pg::Connection& conn) {
            const bool added = friends::Add(conn, ctx.user_id, friend_id);
            if (added) {
                feed::Enqueue(conn, {.kind = feed::Kind::kFriendAdded, .author_id = friend_id, .user_id = ctx.user_id},
                              ctx.request_id);
            }
            return added;
        });
        if (changed) {
            co_await feed.Forget(ctx.user_id);
        }
        co_return JsonResponse(Status::ok, boost::json::object{});
    });

    router.Add(Verb::put, "/friend/delete/{user_id}", Access::kAuthenticated, [&db, &feed](Context& ctx) -> Awaitable {
        const auto friend_id = Friend(ctx);
        const bool changed = co_await db.Transact([&](sn::pg::Connection& conn) {
            const bool removed = friends::Remove(conn, ctx.user_id, friend_id);
            if (removed) {
                feed::Enqueue(conn,
                              {.kind = feed::Kind::kFriendRemoved, .author_id = friend_id, .user_id = ctx.user_id},
                              ctx.request_id);
            }
            return removed;
        });
        if (changed) {
            co_await feed.Forget(ctx.user_id);
        }
        co_return JsonResponse(Status::ok, boost::json::object{});
    });
}

}  // namespace backend
