#pragma once

#include "feed/feed_service.hpp"
#include "http/router.hpp"
#include "pg/pool.hpp"

namespace backend {

/// /friend/set/{user_id} and /friend/delete/{user_id}: the caller follows or unfollows user_id.
void AddFriendRoutes(sn::http::Router& router, sn::pg::Pool& db, feed::FeedService& feed);

}  // namespace backend
