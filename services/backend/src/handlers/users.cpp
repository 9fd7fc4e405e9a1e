#include "handlers/users.hpp"

#include <boost/json/array.hpp>

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

NewUser ParseNewUser(std::string_view body) {
    const auto obj = input::ParseObject(body);
    NewUser user;
    user.first_name = input::RequiredString(obj, "first_name", 1, 100);
    user.second_name = input::RequiredString(obj, "second_name", 1, 100);
    user.birthdate = input::BirthDate(input::RequiredString(obj, "birthdate", 1, 10), "birthdate");
    user.biography = input::OptionalString(obj, "biography", 4000);
    user.city = input::OptionalString(obj, "city", 100);
    user.password = input::RequiredString(obj, "password", 8, 256);
    return user;
}

void WriteJson(sn::JsonWriter& json, const User& user) {
    json.BeginObject()
        .Key("id")
        .String(user.id)
        .Key("first_name")
        .String(user.first_name)
        .Key("second_name")
        .String(user.second_name)
        .Key("birthdate")
        .String(user.birthdate)
        .Key("biography")
        .String(user.biography)
        .Key("city")
        .String(user.city)
        .EndObject();
}

sn::auth::HashAdmission::Ticket AdmitHash(Passwords& passwords) {
    auto ticket = passwords.hashes.TryEnter();
    if (!ticket) {
        passwords.hashes_refused.Add();
        throw HttpError(Status::service_unavailable, "too many password checks at once, retry later",
                        std::chrono::seconds(1));
    }
    return std::move(*ticket);
}

void AddUserRoutes(sn::http::Router& router, UserRepository& users, const sn::auth::TokenSigner& signer,
                   Passwords& passwords) {
    router.Add(Verb::post, "/user/register", Access::kPublic, [&users, &passwords](Context& ctx) -> Awaitable {
        const auto user = ParseNewUser(ctx.request.body());
        const auto ticket = AdmitHash(passwords);
        const auto id = co_await users.Create(user);
        co_return JsonResponse(Status::ok, {{"user_id", id}});
    });

    router.Add(Verb::post, "/login", Access::kPublic, [&users, &signer, &passwords](Context& ctx) -> Awaitable {
        const auto obj = input::ParseObject(ctx.request.body());
        const auto id = input::Uuid(input::RequiredString(obj, "id", 1, 36), "id");
        const auto password = input::RequiredString(obj, "password", 1, 256);
        const auto wait = co_await passwords.limiter.Blocked(id, ctx.client_address);
        if (wait) {
            throw HttpError(Status::too_many_requests, "too many failed logins, retry later", *wait);
        }
        std::optional<bool> valid;
        {
            const auto ticket = AdmitHash(passwords);
            valid = co_await users.CheckPassword(id, password);
        }
        if (!valid || !*valid) {
            co_await passwords.limiter.Failed(id, ctx.client_address);
            throw HttpError(valid ? Status::bad_request : Status::not_found,
                            valid ? "wrong password" : "user not found");
        }
        co_await passwords.limiter.Succeeded(id);
        co_return JsonResponse(Status::ok, {{"token", signer.Issue(id)}});
    });

    router.Add(Verb::get, "/user/get/{id}", Access::kPublic, [&users](Context& ctx) -> Awaitable {
        const auto id = input::Uuid(ctx.Param("id"), "id");
        const auto user = co_await users.Find(id);
        if (!user) {
            throw HttpError(Status::not_found, "user not found");
        }
        co_return sn::http::JsonItemResponse(Status::ok, *user, WriteJson);
    });

    router.Add(Verb::get, "/user/search", Access::kPublic, [&users](Context& ctx) -> Awaitable {
        const auto first = input::QueryString(ctx, "first_name", 1, 100);
        const auto last = input::QueryString(ctx, "last_name", 1, 100);
        const auto limit = static_cast<int>(input::QueryInt(ctx, "limit", 100, 1, 1000));
        const auto found = co_await users.Search(first, last, limit);
        co_return sn::http::JsonArrayResponse(Status::ok, found, WriteJson);
    });

    router.Add(Verb::get, "/auth/whoami", Access::kAuthenticated, [](Context& ctx) -> Awaitable {
        co_return JsonResponse(Status::ok, {{"user_id", ctx.user_id}});
    });
}

}  // namespace backend
