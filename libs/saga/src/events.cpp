#include "saga/events.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/ids.hpp"

namespace sn::saga {
namespace {

boost::json::array ToArray(const std::vector<std::string>& ids) {
    boost::json::array out;
    out.reserve(ids.size());
    for (const auto& id : ids) {
        out.emplace_back(id);
    }
    return out;
}

std::optional<std::string> UuidField(const boost::json::object& obj, std::string_view name) {
    const auto* v = obj.if_contains(name);
    if (v == nullptr || !v->is_string() || !ids::IsUuid(v->get_string())) {
        return std::nullopt;
    }
    return ids::NormalizeUuid(v->get_string());
}

std::optional<std::vector<std::string>> MessageIds(const boost::json::object& obj) {
    const auto* v = obj.if_contains("message_ids");
    if (v == nullptr || !v->is_array() || v->get_array().empty() || v->get_array().size() > kMaxMessagesPerEvent) {
        return std::nullopt;
    }
    std::vector<std::string> out;
    out.reserve(v->get_array().size());
    for (const auto& id : v->get_array()) {
        if (!id.is_string() || !ids::IsUuid(id.get_string())) {
            return std::nullopt;
        }
        out.push_back(ids::NormalizeUuid(id.get_string()));
    }
    return out;
}

std::optional<Action> ParseAction(const boost::json::object& obj) {
    const auto* v = obj.if_contains("action");
    if (v == nullptr || !v->is_string()) {
        return std::nullopt;
    }
    if (v->get_string() == "increment") {
        return Action::kIncrement;
    }
    if (v->get_string() == "decrement") {
        return Action::kDecrement;
    }
    return std::nullopt;
}

std::optional<boost::json::object> ParseObject(std::string_view body) {
    boost::system::error_code ec;
    auto value = boost::json::parse(body, ec);
    if (ec || !value.is_object()) {
        return std::nullopt;
    }
    return std::move(value.as_object());
}

}  // namespace

std::string_view ToString(Action action) noexcept { return action == Action::kIncrement ? "increment" : "decrement"; }
std::string_view ToString(Verdict verdict) noexcept { return verdict == Verdict::kCounted ? "counted" : "rejected"; }

std::string ToJson(const CountRequest& request) {
    return boost::json::serialize(boost::json::object{{"event_id", request.event_id},
                                                      {"action", ToString(request.action)},
                                                      {"author_id", request.author_id},
                                                      {"recipient_id", request.recipient_id},
                                                      {"message_ids", ToArray(request.message_ids)}});
}

std::string ToJson(const CountReply& reply) {
    return boost::json::serialize(boost::json::object{{"event_id", reply.event_id},
                                                      {"in_reply_to", reply.in_reply_to},
                                                      {"action", ToString(reply.action)},
                                                      {"verdict", ToString(reply.verdict)},
                                                      {"author_id", reply.author_id},
                                                      {"recipient_id", reply.recipient_id},
                                                      {"message_ids", ToArray(reply.message_ids)},
                                                      {"reason", reply.reason}});
}

std::optional<CountRequest> ParseCountRequest(std::string_view body) {
    const auto obj = ParseObject(body);
    if (!obj) {
        return std::nullopt;
    }
    auto event_id = UuidField(*obj, "event_id");
    auto action = ParseAction(*obj);
    auto author = UuidField(*obj, "author_id");
    auto recipient = UuidField(*obj, "recipient_id");
    auto message_ids = MessageIds(*obj);
    if (!event_id || !action || !author || !recipient || !message_ids || *author == *recipient) {
        return std::nullopt;
    }
    return CountRequest{std::move(*event_id), *action, std::move(*author), std::move(*recipient),
                        std::move(*message_ids)};
}

std::optional<CountReply> ParseCountReply(std::string_view body) {
    const auto obj = ParseObject(body);
    if (!obj) {
        return std::nullopt;
    }
    auto event_id = UuidField(*obj, "event_id");
    auto in_reply_to = UuidField(*obj, "in_reply_to");
    auto action = ParseAction(*obj);
    auto author = UuidField(*obj, "author_id");
    auto recipient = UuidField(*obj, "recipient_id");
    auto message_ids = MessageIds(*obj);
    const auto* verdict = obj->if_contains("verdict");
    if (!event_id || !in_reply_to || !action || !author || !recipient || !message_ids || verdict == nullptr ||
        !verdict->is_string() || (verdict->get_string() != "counted" && verdict->get_string() != "rejected")) {
        return std::nullopt;
    }
    std::string reason;
    if (const auto* r = obj->if_contains("reason"); r != nullptr && r->is_string()) {
        reason = r->get_string();
    }
    return CountReply{std::move(*event_id),
                      std::move(*in_reply_to),
                      *action,
                      verdict->get_string() == "counted" ? Verdict::kCounted : Verdict::kRejected,
                      std::move(*author),
                      std::move(*recipient),
                      std::move(*message_ids),
                      std::move(reason)};
}

std::string RoutingKey(std::string_view author_id, std::string_view recipient_id) {
    return std::string(author_id) + "." + std::string(recipient_id);
}

amqp::Topology Topology(std::string_view queue) {
    if (queue != kCountersQueue && queue != kDialogsQueue) {
        throw std::invalid_argument("saga::Topology: not a saga queue: " + std::string(queue));
    }
    const auto exchange = queue == kCountersQueue ? kUnreadMessages : kUnreadMessagesCounted;
    amqp::Topology topology;
    topology.exchanges = {{std::string(kUnreadMessages), "topic", true},
                          {std::string(kUnreadMessagesCounted), "topic", true}};
    topology.queues = {{std::string(queue), true, true, std::nullopt, std::nullopt}};
    topology.bindings = {{std::string(queue), std::string(exchange), "#"}};
    return amqp::WithDeadLetter(std::move(topology), queue, kDeliveryLimit);
}

}  // namespace sn::saga
