#include "handlers/dialogs.hpp"

#include "common/time.hpp"
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

void WriteJson(sn::JsonWriter& json, const MessageView& message) {
    json.BeginObject()
        .Key("id")
        .String(message.id)
        .Key("from")
        .String(message.author_id)
        .Key("to")
        .String(message.recipient_id)
        .Key("text")
        .String(message.text)
        .Key("state")
        .String(message.state)
        .Key("created_at")
        .StringFrom([&message](std::string& out) { sn::time::AppendIsoMicros(out, message.created_us); })
        .EndObject();
}

MessageSender::Write SendInBatches(sn::metrics::Registry& metrics) {
    auto& sizes = metrics.GetHistogram("dialogs_send_batch_size", "Messages written by one send statement.", {},
                                       {1, 2, 4, 8, 16, 32, 64, 128});
    return [&sizes](sn::pg::Connection& conn, std::span<const SendRequest> requests) {
        sizes.Observe(static_cast<double>(requests.size()));
        return MessageStore::Send(conn, requests);
    };
}

void AddDialogRoutes(sn::http::Router& router, sn::pg::Pool& db, MessageSender& sender, bool mark_as_read_on_listing) {
    router.Add(Verb::post, "/dialog/{user_id}/send", Access::kAuthenticated, [&sender](Context& ctx) -> Awaitable {
        SendRequest request{ctx.user_id, Peer(ctx),
                            input::RequiredString(input::ParseObject(ctx.request.body()), "text", 1, 4000),
                            ctx.request_id};
        const auto message = co_await sender.Submit(std::move(request));
        co_return sn::http::JsonItemResponse(Status::ok, message.View(), WriteJson);
    });

    router.Add(Verb::get, "/dialog/{user_id}/list", Access::kAuthenticated,
               [&db, mark_as_read_on_listing](Context& ctx) -> Awaitable {
                   const auto peer = Peer(ctx);
                   const auto limit = static_cast<int>(input::QueryInt(ctx, "limit", 100, 1, 1000));
                   std::optional<std::string> before;
                   if (auto cursor = ctx.Query("before")) {
                       before = input::Uuid(*cursor, "before");
                   }
                   // The page is written out while its rows are still in libpq's result, so
                   // nothing is copied per message. A plain read is one statement; so is a
                   // marking one that finds nothing to mark (most of them: the page's statement
                   // asks). Marking writes, so then page and marks share a transaction.
                   const auto list_page = [&](sn::pg::Connection& conn, bool ask) {
                       const auto page = MessageStore::Page(conn, ctx.user_id, peer, before, limit, ask);
                       return page.to_mark ? std::nullopt : std::optional(sn::JsonArray(page.messages, WriteJson));
                   };
                   auto body =
                       co_await db.Run([&](sn::pg::Connection& c) { return list_page(c, mark_as_read_on_listing); });
                   if (!body) {
                       body = co_await db.Transact([&](sn::pg::Connection& conn) {
                           (void)MessageStore::MarkRead(conn, ctx.user_id, peer, ctx.request_id);
                           return list_page(conn, false);
                       });
                   }
                   co_return sn::http::JsonTextResponse(Status::ok, std::move(*body));
               });

    router.Add(Verb::post, "/dialog/{user_id}/read", Access::kAuthenticated, [&db](Context& ctx) -> Awaitable {
        const auto peer = Peer(ctx);
        const auto marked = co_await db.Transact(
            [&](sn::pg::Connection& conn) { return MessageStore::MarkRead(conn, ctx.user_id, peer, ctx.request_id); });
        co_return JsonResponse(Status::ok, {{"marked", marked}});
    });
}

}  // namespace dialogs
