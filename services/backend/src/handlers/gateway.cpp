#include "handlers/gateway.hpp"

#include "http/input.hpp"

namespace backend {

using sn::http::Access;
using sn::http::Context;
using sn::http::HttpError;
using sn::http::Request;
using sn::http::Response;
using sn::http::Status;
using sn::http::Verb;
using Awaitable = boost::asio::awaitable<Response>;
namespace field = boost::beast::http;

namespace {

/// The same request, on to the service, with the request id carried on.
Awaitable Forward(sn::http::Upstream& upstream, const Context& ctx) {
    Request out{ctx.request.method(), ctx.request.target(), 11};
    out.set(field::field::authorization, ctx.request[field::field::authorization]);
    out.set(field::field::content_type, "application/json");
    out.set("X-Request-ID", ctx.request_id);
    out.body() = ctx.request.body();
    auto res = co_await upstream.Send(out);
    // Hop-by-hop headers stay with the hop; the server sets its own.
    res.erase(field::field::connection);
    res.erase(field::field::keep_alive);
    co_return res;
}

sn::http::Handler ForwardTo(sn::http::Upstream& upstream) {
    return [&upstream](Context& ctx) -> Awaitable { co_return co_await Forward(upstream, ctx); };
}

/// Forwards only when the peer in the path is a registered user.
sn::http::Handler ForwardAboutUser(sn::http::Upstream& upstream, UserRepository& users) {
    return [&upstream, &users](Context& ctx) -> Awaitable {
        const auto peer = sn::http::input::Uuid(ctx.Param("user_id"), "user_id");
        if (!co_await users.Exists(peer)) {
            throw HttpError(Status::not_found, "user not found");
        }
        co_return co_await Forward(upstream, ctx);
    };
}

}  // namespace

void AddGatewayRoutes(sn::http::Router& router, UserRepository& users, sn::http::Upstream& dialogs,
                      sn::http::Upstream& counters) {
    router.Add(Verb::post, "/dialog/{user_id}/send", Access::kAuthenticated, ForwardAboutUser(dialogs, users));
    router.Add(Verb::get, "/dialog/{user_id}/list", Access::kAuthenticated, ForwardAboutUser(dialogs, users));
    router.Add(Verb::post, "/dialog/{user_id}/read", Access::kAuthenticated, ForwardAboutUser(dialogs, users));
    router.Add(Verb::get, "/counters/unread", Access::kAuthenticated, ForwardTo(counters));
    router.Add(Verb::get, "/counters/{user_id}/unreadMessages", Access::kAuthenticated, ForwardTo(counters));
    router.Add(Verb::get, "/counters/ping", Access::kAuthenticated, ForwardTo(counters));
}

}  // namespace backend
