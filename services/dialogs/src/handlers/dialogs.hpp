#pragma once

#include "common/json_writer.hpp"
#include "http/router.hpp"
#include "pg/group_commit.hpp"
#include "pg/pool.hpp"
#include "storage/messages.hpp"

namespace dialogs {

/// The contract's DialogMessage (`from`, `to`, `text`) plus `id`, `created_at` and `state`.
void WriteJson(sn::JsonWriter& json, const MessageView& message);

/// Sends, written in batches: the ones that arrive while earlier ones are written go together.
using MessageSender = sn::pg::GroupCommit<SendRequest, Message>;
/// What MessageSender writes a batch with: MessageStore::Send, its sizes in a histogram.
MessageSender::Write SendInBatches(sn::metrics::Registry& metrics);

/// POST /dialog/{user_id}/send, GET /dialog/{user_id}/list, POST /dialog/{user_id}/read.
void AddDialogRoutes(sn::http::Router& router, sn::pg::Pool& db, MessageSender& sender, bool mark_as_read_on_listing);

}  // namespace dialogs
