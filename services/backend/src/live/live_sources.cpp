#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include "feed/events.hpp"
#include "live/live_channel.hpp"
#include "live/live_sources.hpp"
#include "saga/events.hpp"

namespace backend {
namespace {

std::string Message(std::string_view event, std::string_view state, const std::string& author,
                    const std::string& recipient, const std::vector<std::string>& ids) {
    boost::json::object out{{"event", event},
                            {"author_id", author},
                            {"recipient_id", recipient},
                            {"message_ids", boost::json::value_from(ids)}};
    out["state"] = state.empty() ? boost::json::value(nullptr) : boost::json::value(state);
    return boost::json::serialize(out);
}

}  // namespace

std::optional<DialogLiveEvent> ToDialogLiveEvent(std::string_view exchange, std::string_view body) {
    using sn::saga::Action;
    if (exchange == sn::saga::kUnreadMessages) {
        const auto request = sn::saga::ParseCountRequest(body);
        if (!request) {
            return std::nullopt;
        }
        const bool sent = request->action == Action::kIncrement;
        return DialogLiveEvent{request->author_id, request->recipient_id,
                               Message(sent ? "sent" : "read", sent ? "PENDING_UNREAD" : "PENDING_READ",
                                       request->author_id, request->recipient_id, request->message_ids)};
    }
    if (exchange == sn::saga::kUnreadMessagesCounted) {
        const auto reply = sn::saga::ParseCountReply(body);
        if (!reply) {
            return std::nullopt;
        }
        const bool increment = reply->action == Action::kIncrement;
        const bool counted = reply->verdict == sn::saga::Verdict::kCounted;
        // A rejected step is compensated by dialogs afterwards: the client asks for the list again.
        return DialogLiveEvent{reply->author_id, reply->recipient_id,
                               Message(!counted ? "rejected" : (increment ? "counted" : "read_counted"),
                                       !counted ? "" : (increment ? "UNREAD" : "READ"), reply->author_id,
                                       reply->recipient_id, reply->message_ids)};
    }
    return std::nullopt;
}

LiveSource FeedLiveSource() {
    return LiveSource{
        .name = "feed_live",
        .exchanges = {std::string(feed::kPostPosted)},
        .binding_keys = [](const std::string& user) { return std::vector<std::string>{user}; },
        .route =
            [](std::string_view, std::string_view key, std::string_view body) {
                return std::vector<std::pair<std::string, std::string>>{{std::string(key), std::string(body)}};
            },
    };
}

LiveSource DialogLiveSource() {
    return LiveSource{
        .name = "dialogs_live",
        .exchanges = {std::string(sn::saga::kUnreadMessages), std::string(sn::saga::kUnreadMessagesCounted)},
        // Routing key `<author>.<recipient>`: both sides of every dialog of the user.
        .binding_keys =
            [](const std::string& user) {
                return std::vector<std::string>{user + ".*", "*." + user};
            },
        .route =
            [](std::string_view exchange, std::string_view, std::string_view body) {
                std::vector<std::pair<std::string, std::string>> out;
                if (auto event = ToDialogLiveEvent(exchange, body)) {
                    out.emplace_back(event->author_id, event->text);
                    out.emplace_back(std::move(event->recipient_id), std::move(event->text));
                }
                return out;
            },
    };
}

}  // namespace backend
