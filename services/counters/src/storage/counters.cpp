#include "storage/counters.hpp"

#include <map>
#include <utility>

#include "common/ids.hpp"
#include "saga/consumer.hpp"
#include "saga/outbox.hpp"

namespace counters {
namespace {

using sn::saga::Action;
using sn::saga::Verdict;

// Sums per pair, in pair order (each row locked once, and always in the same order).
constexpr std::string_view kIncrement =
    "INSERT INTO unread_messages (author_id, recepient_id, count) "
    "SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[]) "
    "ON CONFLICT (author_id, recepient_id) DO UPDATE SET count = unread_messages.count + EXCLUDED.count";
constexpr std::string_view kDecrement =
    "UPDATE unread_messages SET count = count - $3 WHERE author_id = $1 AND recepient_id = $2 AND count >= $3";
constexpr std::string_view kForRecipient =
    "SELECT author_id, count FROM unread_messages WHERE recepient_id = $1 AND count > 0 ORDER BY author_id";
constexpr std::string_view kBetween = "SELECT count FROM unread_messages WHERE author_id = $1 AND recepient_id = $2";
constexpr std::string_view kBelowZero = "the counter would go below zero";

}  // namespace

std::size_t CounterStore::Apply(sn::pg::Connection& conn,
                                std::span<const sn::saga::Received<sn::saga::CountRequest>> batch) {
    const auto counted = sn::saga::ToString(Verdict::kCounted);
    const auto rejected = sn::saga::ToString(Verdict::kRejected);
    std::vector<std::string> event_ids;
    event_ids.reserve(batch.size());
    for (const auto& item : batch) {
        event_ids.push_back(item.event.event_id);
    }
    // Every event's verdict: recorded earlier for the seen ones, decided here for the new ones.
    auto verdicts = sn::saga::inbox::Claim(conn, event_ids, counted);
    std::size_t duplicates = 0;
    std::map<std::pair<std::string, std::string>, std::int64_t> increments;
    std::vector<const sn::saga::CountRequest*> decrements;
    for (const auto& item : batch) {
        const auto& request = item.event;
        if (!verdicts.emplace(request.event_id, counted).second) {
            ++duplicates;  // seen in an earlier batch, or earlier in this one
            continue;
        }
        if (request.action == Action::kIncrement) {
            increments[{request.author_id, request.recipient_id}] +=
                static_cast<std::int64_t>(request.message_ids.size());
        } else {
            decrements.push_back(&request);
        }
    }
    if (!increments.empty()) {
        std::vector<std::string> authors, recipients, counts;
        for (const auto& [pair, n] : increments) {
            authors.push_back(pair.first);
            recipients.push_back(pair.second);
            counts.push_back(std::to_string(n));
        }
        (void)conn.Exec(kIncrement, authors, recipients, counts);
    }
    for (const auto* request : decrements) {
        const auto n = static_cast<std::int64_t>(request->message_ids.size());
        if (conn.Exec(kDecrement, request->author_id, request->recipient_id, n).Affected() == 0) {
            verdicts[request->event_id] = rejected;
            sn::saga::inbox::Record(conn, request->event_id, rejected);
        }
    }
    std::vector<sn::saga::OutboxEvent> replies;
    replies.reserve(batch.size());
    for (const auto& [request, delivery] : batch) {
        const auto verdict = verdicts.at(request.event_id) == rejected ? Verdict::kRejected : Verdict::kCounted;
        const sn::saga::CountReply reply{
            sn::ids::NewUuid(),  request.event_id,
            request.action,      verdict,
            request.author_id,   request.recipient_id,
            request.message_ids, verdict == Verdict::kRejected ? std::string(kBelowZero) : std::string()};
        replies.push_back({reply.event_id, std::string(sn::saga::kUnreadMessagesCounted),
                           sn::saga::RoutingKey(request.author_id, request.recipient_id), delivery->correlation_id,
                           delivery->request_id, sn::saga::ToJson(reply)});
    }
    sn::saga::EnqueueAll(conn, replies);
    return duplicates;
}

std::vector<PeerCount> CounterStore::ForRecipient(sn::pg::Connection& conn, const std::string& recipient) {
    const auto rows = conn.Exec(kForRecipient, recipient);
    std::vector<PeerCount> out;
    out.reserve(static_cast<std::size_t>(rows.Rows()));
    for (int i = 0; i < rows.Rows(); ++i) {
        out.push_back({rows.String(i, 0), rows.Int(i, 1)});
    }
    return out;
}

std::int64_t CounterStore::Between(sn::pg::Connection& conn, const std::string& author, const std::string& recipient) {
    const auto rows = conn.Exec(kBetween, author, recipient);
    return rows.Empty() ? 0 : rows.Int(0, 0);
}

}  // namespace counters
