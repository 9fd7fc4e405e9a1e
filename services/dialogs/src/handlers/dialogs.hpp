#pragma once

#include "common/json_writer.hpp"
#include "http/router.hpp"
#include "pg/pool.hpp"
#include "storage/messages.hpp"

namespace dialogs {

/// The contract's DialogMessage (`from`, `to`, `text`) plus `id`, `created_at` and `state`.
void WriteJson(sn::JsonWriter& json, const MessageView& message);

/// POST /dialog/{user_id}/send, GET /dialog/{user_id}/list, POST /dialog/{user_id}/read.
void AddDialogRoutes(sn::http::Router& router, sn::pg::Pool& db, bool mark_as_read_on_listing);

}  // namespace dialogs
