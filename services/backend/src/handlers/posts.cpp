#include "handlers/posts.hpp"

#include <boost/json/array.hpp>
#include <chrono>

#include "common/time.hpp"
#include "feed/events.hpp"
#include "http/input.hpp"

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

/// Locks the post and checks that the caller wrote it: 404 when there is none, 403 for others.
void RequireAuthor(sn::pg::Connection& conn, const std::string& post_id, const std::string& user_id) {
    const auto author = posts::LockAuthor(conn, post_id);
    if (!author) {
        throw HttpError(Status::not_found, "post not found");
    }
    if (*author != user_id) {
        throw HttpError(Status::forbidden, "only the author may change a post");
    }
}

}  // namespace

std::string ParsePostText(std::string_view body) {
    return input::RequiredString(input::ParseObject(body), "text", 1, kMaxPostChars);
}

PostEdit ParsePostEdit(std::string_view body) {
    const auto obj = input::ParseObject(body);
    PostEdit edit;
    edit.id = input::Uuid(input::RequiredString(obj, "id", 1, 36), "id");
    edit.text = input::RequiredString(obj, "text", 1, kMaxPostChars);
    return edit;
}

void WriteJson(sn::JsonWriter& json, const Post& post) {
    json.BeginObject()
        .Key("id")
        .String(post.id)
        .Key("text")
        .String(post.text)
        .Key("author_user_id")
        .String(post.author_id)
        .Key("created_at")
        .StringFrom([&post](std::string& out) { sn::time::AppendIsoMicros(out, post.created_us); })
        .EndObject();
}

void AddPostRoutes(sn::http::Router& router, sn::pg::Pool& db, feed::FeedService& feed) {
    router.Add(Verb::post, "/post/create", Access::kAuthenticated, [&db](Context& ctx) -> Awaitable {
        const auto text = ParsePostText(ctx.request.body());
        const auto post = co_await db.Transact([&](sn::pg::Connection& conn) {
            auto created = posts::Create(conn, ctx.user_id, text);
            feed::Enqueue(conn, {.kind = feed::Kind::kPostCreated, .post_id = created.id, .author_id = ctx.user_id},
                          ctx.request_id);
            return created;
        });
        // The contract's response is PostId: the id as a JSON string.
        co_return JsonResponse(Status::ok, boost::json::value(post.id));
    });

    router.Add(Verb::put, "/post/update", Access::kAuthenticated, [&db, &feed](Context& ctx) -> Awaitable {
        const auto edit = ParsePostEdit(ctx.request.body());
        co_await db.Transact([&](sn::pg::Connection& conn) {
            RequireAuthor(conn, edit.id, ctx.user_id);
            posts::Update(conn, edit.id, edit.text);
            feed::Enqueue(conn, {.kind = feed::Kind::kPostUpdated, .post_id = edit.id, .author_id = ctx.user_id},
                          ctx.request_id);
        });
        co_await feed.ForgetPost(edit.id);
        co_return JsonResponse(Status::ok, boost::json::object{});
    });

    router.Add(Verb::put, "/post/delete/{id}", Access::kAuthenticated, [&db, &feed](Context& ctx) -> Awaitable {
        const auto id = input::Uuid(ctx.Param("id"), "id");
        co_await db.Transact([&](sn::pg::Connection& conn) {
            RequireAuthor(conn, id, ctx.user_id);
            posts::Delete(conn, id);
            feed::Enqueue(conn, {.kind = feed::Kind::kPostDeleted, .post_id = id, .author_id = ctx.user_id},
                          ctx.request_id);
        });
        co_await feed.ForgetPost(id);
        co_return JsonResponse(Status::ok, boost::json::object{});
    });

    router.Add(Verb::get, "/post/get/{id}", Access::kPublic, [&db](Context& ctx) -> Awaitable {
        const auto id = input::Uuid(ctx.Param("id"), "id");
        const auto post = co_await db.Run([&](sn::pg::Connection& conn) { return posts::Find(conn, id); });
        if (!post) {
            throw HttpError(Status::not_found, "post not found");
        }
        co_return sn::http::JsonItemResponse(Status::ok, *post, WriteJson);
    });

    router.Add(Verb::get, "/post/feed", Access::kAuthenticated, [&feed](Context& ctx) -> Awaitable {
        const auto offset = input::QueryInt(ctx, "offset", 0, 0, 1000);
        const auto limit = input::QueryInt(ctx, "limit", 10, 1, 1000);
        const auto page = co_await feed.Read(ctx.user_id, offset, limit);
        co_return sn::http::JsonArrayResponse(Status::ok, page, WriteJson);
    });
}

}  // namespace backend
