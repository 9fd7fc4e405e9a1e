#pragma once

#include <boost/json/object.hpp>
#include <string_view>

#include "auth/tokens.hpp"
#include "http/router.hpp"
#include "storage/user_repository.hpp"

namespace backend {

/// Parses and validates a /user/register body (throws HttpError 400 naming the bad field).
[[nodiscard]] NewUser ParseNewUser(std::string_view body);
/// The contract's User object; never the password hash.
[[nodiscard]] boost::json::object ToJson(const User& user, boost::json::storage_ptr storage = {});

/// /user/register, /login, /user/get/{id}, /user/search and /auth/whoami.
void AddUserRoutes(sn::http::Router& router, UserRepository& users, const sn::auth::TokenSigner& signer);

}  // namespace backend
