#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace backend {

/// One saga event as the dialog's two people see it on `GET /dialog/live` (docs/api.md):
/// `{event, state, author_id, recipient_id, message_ids}`.
struct DialogLiveEvent {
    std::string author_id;
    std::string recipient_id;
    std::string text;
};

/// nullopt for an event of another exchange or a malformed one (the work queues deal with those).
[[nodiscard]] std::optional<DialogLiveEvent> ToDialogLiveEvent(std::string_view exchange, std::string_view body);

}  // namespace backend
