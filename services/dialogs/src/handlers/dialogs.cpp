#include "handlers/dialogs.hpp"

#include <boost/json/array.hpp>

#include "http/input.hpp"

namespace dialogs {

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

/// The other participant, from the path; talking to oneself is not a dialog.
std::string Peer(const Context& ctx) {
    auto peer = input::Uuid(ctx.Param("user_id"), "user_id");
    if (peer == ctx.user_id) {
        throw HttpError(Status::bad_request, "user_id must be another user");
    }
    return peer;
}

}  // namespace

boost::json::object ToJson(const Message& message, boost::json::storage_ptr storage) {
    return boost::json::object({{"id", message.id},
                                {"from", message.author_id},
                                {"to", message.recipient_id},
                                {"text", message.text},
                                {"state", message.state},
                                {"created_at", message.created_at}},
                               std::move(storage));
}

void AddDialogRoutes(sn::http::Router& router, sn::pg::Pool& db, bool mark_as_read_on_listing) {
    router.Add(Verb::post, "/dialog/{user_id}/send", Access::kAuthenticated, [&db](Context& ctx) -> Awaitable {
        const auto peer = Peer(ctx);
        auto text = input::RequiredString(input::ParseObject(ctx.request.body()), "text", 1, 4000);
        const auto message = co_await db.Run([&](sn::pg::Connection& conn) {
            return MessageStore::Send(conn, ctx.user_id, peer, text, ctx.request_id);
        });
        co_return JsonResponse(Status::ok, ToJson(message));
    });

    router.Add(Verb::get, "/dialog/{user_id}/list", Access::kAuthenticated,
               [&db, mark_as_read_on_listing](Context& ctx) -> Awaitable {
                   const auto peer = Peer(ctx);
                   const auto limit = static_cast<int>(input::QueryInt(ctx, "limit", 100, 1, 1000));
                   std::optional<std::string> before;
                   if (auto cursor = ctx.Query("before")) {
                       before = input::Uuid(*cursor, "before");
                   }
                   const auto read_page = [&](sn::pg::Connection& conn) {
                       return MessageStore::Page(conn, ctx.user_id, peer, before, limit);
                   };
                   // Marking writes, so page and marks share a transaction; a plain read is one
                   // statement, without BEGIN and COMMIT round trips.
                   std::vector<Message> page;
                   if (mark_as_read_on_listing) {
                       page = co_await db.Transact([&](sn::pg::Connection& conn) {
                           (void)MessageStore::MarkRead(conn, ctx.user_id, peer, ctx.request_id);
                           return read_page(conn);
                       });
                   } else {
                       page = co_await db.Run(read_page);
                   }
                   co_return sn::http::JsonArrayResponse(Status::ok, page, ToJson);
               });

    router.Add(Verb::post, "/dialog/{user_id}/read", Access::kAuthenticated, [&db](Context& ctx) -> Awaitable {
        const auto peer = Peer(ctx);
        const auto marked = co_await db.Transact(
            [&](sn::pg::Connection& conn) { return MessageStore::MarkRead(conn, ctx.user_id, peer, ctx.request_id); });
        co_return JsonResponse(Status::ok, {{"marked", marked}});
    });
}

}  // namespace dialogs
