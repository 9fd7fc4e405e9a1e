#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amqp/topology.hpp"

/// The unread-counter saga's events, as they travel between dialogs and counters.
namespace sn::saga {

/// dialogs -> counters: "count these messages" (routing key `<author_id>.<recipient_id>`).
inline constexpr std::string_view kUnreadMessages = "unreadMessages";
/// counters -> dialogs: "counted" or "rejected", in reply to one event.
inline constexpr std::string_view kUnreadMessagesCounted = "unreadMessagesCounted";
/// The work queues; every copy of a service competes on its one queue.
inline constexpr std::string_view kCountersQueue = "counters.unreadMessages";
inline constexpr std::string_view kDialogsQueue = "dialogs.unreadMessagesCounted";
/// Deliveries of one event before the queue dead-letters it. Poison is rejected at once; this
/// bounds an event that keeps crashing its consumer, with room for restarts and outages.
inline constexpr std::int64_t kDeliveryLimit = 20;
/// At most this many message ids travel in one event (a large read becomes several events).
inline constexpr std::size_t kMaxMessagesPerEvent = 1000;

enum class Action { kIncrement, kDecrement };
enum class Verdict { kCounted, kRejected };

[[nodiscard]] std::string_view ToString(Action action) noexcept;
[[nodiscard]] std::string_view ToString(Verdict verdict) noexcept;

/// Asks counters to add (increment) or subtract (decrement) message_ids.size() unread messages
/// from author to recipient.
struct CountRequest {
    std::string event_id;
    Action action = Action::kIncrement;
    std::string author_id;
    std::string recipient_id;
    std::vector<std::string> message_ids;
};

/// counters' answer to one CountRequest.
struct CountReply {
    std::string event_id;
    std::string in_reply_to;
    Action action = Action::kIncrement;
    Verdict verdict = Verdict::kCounted;
    std::string author_id;
    std::string recipient_id;
    std::vector<std::string> message_ids;
    std::string reason;  // why it was rejected
};

[[nodiscard]] std::string ToJson(const CountRequest& request);
[[nodiscard]] std::string ToJson(const CountReply& reply);
/// nullopt for anything malformed: not JSON, a missing or mistyped field, an unknown action,
/// ids that are not UUIDs, no message ids or too many. Such an event is poison.
[[nodiscard]] std::optional<CountRequest> ParseCountRequest(std::string_view body);
[[nodiscard]] std::optional<CountReply> ParseCountReply(std::string_view body);

[[nodiscard]] std::string RoutingKey(std::string_view author_id, std::string_view recipient_id);

/// What the service consuming `queue` (kCountersQueue or kDialogsQueue) declares: both exchanges
/// (it publishes to one and its queue is bound to the other), its own work queue (quorum) and that
/// queue's dead-letter exchange and queue, and nothing of the other side's, which its broker user
/// may not configure (scripts/stack_credentials.sh). An event published before the other side
/// declared its queue is unroutable, returned (mandatory), and stays in the outbox until then.
[[nodiscard]] amqp::Topology Topology(std::string_view queue);

}  // namespace sn::saga
