#pragma once

#include <string_view>

#include "auth/tokens.hpp"
#include "common/json_writer.hpp"
#include "http/router.hpp"
#include "storage/user_repository.hpp"

namespace backend {

/// Parses and validates a /user/register body (throws HttpError 400 naming the bad field).
[[nodiscard]] NewUser ParseNewUser(std::string_view body);
/// The contract's User object; never the password hash.
void WriteJson(sn::JsonWriter& json, const User& user);

/// /user/register, /login, /user/get/{id}, /user/search and /auth/whoami.
void AddUserRoutes(sn::http::Router& router, UserRepository& users, const sn::auth::TokenSigner& signer);

}  // namespace backend
