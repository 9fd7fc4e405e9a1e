#include "feed/events.hpp"

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/ids.hpp"
#include "saga/outbox.hpp"

namespace backend::feed {
namespace {

constexpr std::array<std::pair<Kind, std::string_view>, 5> kKinds{{{Kind::kPostCreated, "post.created"},
                                                                   {Kind::kPostUpdated, "post.updated"},
                                                                   {Kind::kPostDeleted, "post.deleted"},
                                                                   {Kind::kFriendAdded, "friend.added"},
                                                                   {Kind::kFriendRemoved, "friend.removed"}}};

bool IsPostEvent(Kind kind) noexcept {
    return kind == Kind::kPostCreated || kind == Kind::kPostUpdated || kind == Kind::kPostDeleted;
}

std::optional<std::string> UuidField(const boost::json::object& obj, std::string_view name) {
    const auto* value = obj.if_contains(name);
    if (value == nullptr || !value->is_string() || !sn::ids::IsUuid(value->get_string())) {
        return std::nullopt;
    }
    return sn::ids::NormalizeUuid(value->get_string());
}

}  // namespace

std::string_view ToString(Kind kind) noexcept {
    for (const auto& [k, name] : kKinds) {
        if (k == kind) {
            return name;
        }
    }
    return "unknown";
}

std::string ToJson(const Event& event) {
    boost::json::object obj{{"event_id", event.event_id}, {"kind", ToString(event.kind)}};
    if (IsPostEvent(event.kind)) {
        obj["post_id"] = event.post_id;
        obj["author_id"] = event.author_id;
    } else {
        obj["user_id"] = event.user_id;
        obj["friend_id"] = event.author_id;
    }
    return boost::json::serialize(obj);
}

std::optional<Event> Parse(std::string_view body) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(body, ec);
    if (ec || !value.is_object()) {
        return std::nullopt;
    }
    const auto& obj = value.get_object();
    const auto* kind = obj.if_contains("kind");
    if (kind == nullptr || !kind->is_string()) {
        return std::nullopt;
    }
    Event event;
    bool known = false;
    for (const auto& [k, name] : kKinds) {
        if (kind->get_string() == name) {
            event.kind = k;
            known = true;
        }
    }
    const auto event_id = UuidField(obj, "event_id");
    if (!known || !event_id) {
        return std::nullopt;
    }
    event.event_id = *event_id;
    const auto first = UuidField(obj, IsPostEvent(event.kind) ? "post_id" : "user_id");
    const auto second = UuidField(obj, IsPostEvent(event.kind) ? "author_id" : "friend_id");
    if (!first || !second) {
        return std::nullopt;
    }
    if (IsPostEvent(event.kind)) {
        event.post_id = *first;
    } else {
        event.user_id = *first;
    }
    event.author_id = *second;
    return event;
}

void Enqueue(sn::pg::Connection& conn, Event event, const std::string& request_id) {
    event.event_id = sn::ids::NewUuid();
    sn::saga::Enqueue(conn,
                      sn::saga::OutboxEvent{.event_id = event.event_id,
                                            .exchange = std::string(kFeedEvents),
                                            .routing_key = std::string(ToString(event.kind)),
                                            .correlation_id = IsPostEvent(event.kind) ? event.post_id : event.user_id,
                                            .request_id = request_id,
                                            .payload = ToJson(event)});
}

sn::amqp::Topology Topology() {
    sn::amqp::Topology topology;
    topology.exchanges = {{std::string(kFeedEvents), "topic", true}, {std::string(kPostPosted), "topic", true}};
    topology.queues = {{std::string(kFeedQueue), true, true, std::nullopt, std::nullopt}};
    topology.bindings = {{std::string(kFeedQueue), std::string(kFeedEvents), "#"}};
    return sn::amqp::WithDeadLetter(std::move(topology), kFeedQueue);
}

std::string LiveMessage(std::string_view post_id, std::string_view text, std::string_view author_id) {
    return boost::json::serialize(
        boost::json::object{{"postId", post_id}, {"postText", text}, {"author_user_id", author_id}});
}

}  // namespace backend::feed
