#pragma once

#include <boost/json/object.hpp>

#include "http/router.hpp"
#include "pg/pool.hpp"
#include "storage/messages.hpp"

namespace dialogs {

/// The contract's DialogMessage (`from`, `to`, `text`) plus `id`, `created_at` and `state`.
[[nodiscard]] boost::json::object ToJson(const Message& message, boost::json::storage_ptr storage = {});

/// POST /dialog/{user_id}/send, GET /dialog/{user_id}/list, POST /dialog/{user_id}/read.
void AddDialogRoutes(sn::http::Router& router, sn::pg::Pool& db, bool mark_as_read_on_listing);

}  // namespace dialogs
