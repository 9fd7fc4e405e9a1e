#pragma once

#include "http/router.hpp"
#include "pg/pool.hpp"

namespace counters {

/// GET /counters/unread (the caller's total and per-peer counts),
/// GET /counters/{user_id}/unreadMessages (unread messages from user_id to the caller) and
/// GET /counters/ping ({"ok": true} for any valid token: the benchmarks' HTTP baseline).
void AddCounterRoutes(sn::http::Router& router, sn::pg::Pool& db);

}  // namespace counters
