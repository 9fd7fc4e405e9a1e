#pragma once

#include <string_view>

#include "auth/hash_admission.hpp"
#include "auth/tokens.hpp"
#include "common/json_writer.hpp"
#include "http/router.hpp"
#include "login/login_limiter.hpp"
#include "storage/user_repository.hpp"

namespace backend {

/// Parses and validates a /user/register body (throws HttpError 400 naming the bad field).
[[nodiscard]] NewUser ParseNewUser(std::string_view body);
/// The contract's User object; never the password hash.
void WriteJson(sn::JsonWriter& json, const User& user);

/// What guards the password hashes: how many run or wait at once, and the failed-login limits.
struct Passwords {
    sn::auth::HashAdmission& hashes;
    LoginLimiter& limiter;
    sn::metrics::Counter& hashes_refused;  // registrations and logins refused with 503 by `hashes`
};

/// /user/register, /login, /user/get/{id}, /user/search and /auth/whoami.
void AddUserRoutes(sn::http::Router& router, UserRepository& users, const sn::auth::TokenSigner& signer,
                   Passwords& passwords);

}  // namespace backend
