#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "amqp/topology.hpp"
#include "pg/connection.hpp"

/// The feed's events: what changed, never the new state. The fan-out reads the current state
/// from the tables when it applies one, so replays and reordering cannot make the cache stale.
namespace backend::feed {

/// backend -> backend (fan-out), through the outbox. Routing key = the kind ("post.created").
inline constexpr std::string_view kFeedEvents = "feedEvents";
inline constexpr std::string_view kFeedQueue = "backend.feedEvents";
/// fan-out -> every backend copy's live feed. Routing key = the follower's user id.
inline constexpr std::string_view kPostPosted = "postPosted";

enum class Kind { kPostCreated, kPostUpdated, kPostDeleted, kFriendAdded, kFriendRemoved };

struct Event {
    std::string event_id{};
    Kind kind = Kind::kPostCreated;
    std::string post_id{};    // post events
    std::string author_id{};  // post events: the post's author; friend events: the followed user
    std::string user_id{};    // friend events: the follower
};

[[nodiscard]] std::string_view ToString(Kind kind) noexcept;
[[nodiscard]] std::string ToJson(const Event& event);
/// nullopt for anything malformed (poison: dead-lettered).
[[nodiscard]] std::optional<Event> Parse(std::string_view body);

/// Adds the event to the backend's outbox in the current transaction (event_id is made here).
void Enqueue(sn::pg::Connection& conn, Event event, const std::string& request_id);

/// feedEvents -> backend.feedEvents (quorum, dead-lettered) and the postPosted exchange.
[[nodiscard]] sn::amqp::Topology Topology();

/// The live feed's message, as the AsyncAPI contract has it.
[[nodiscard]] std::string LiveMessage(std::string_view post_id, std::string_view text, std::string_view author_id);

}  // namespace backend::feed
