#include "storage/counters.hpp"

#include "common/ids.hpp"
#include "saga/consumer.hpp"
#include "saga/outbox.hpp"

namespace counters {
namespace {

using sn::saga::Action;
using sn::saga::Verdict;

constexpr std::string_view kIncrement =
    "INSERT INTO unread_messages (author_id, recepient_id, count) VALUES ($1, $2, $3) "
    "ON CONFLICT (author_id, recepient_id) DO UPDATE SET count = unread_messages.count + EXCLUDED.count";
constexpr std::string_view kDecrement =
    "UPDATE unread_messages SET count = count - $3 WHERE author_id = $1 AND recepient_id = $2 AND count >= $3";
constexpr std::string_view kForRecipient =
    "SELECT author_id, count FROM unread_messages WHERE recepient_id = $1 AND count > 0 ORDER BY author_id";
constexpr std::string_view kBetween = "SELECT count FROM unread_messages WHERE author_id = $1 AND recepient_id = $2";
constexpr std::string_view kBelowZero = "the counter would go below zero";

}  // namespace

bool CounterStore::Apply(sn::pg::Connection& conn, const sn::saga::CountRequest& request,
                         const std::string& correlation_id, const std::string& request_id) {
    const auto n = static_cast<std::int64_t>(request.message_ids.size());
    auto verdict = Verdict::kCounted;
    const auto seen = sn::saga::inbox::Claim(conn, request.event_id, sn::saga::ToString(Verdict::kCounted));
    if (seen) {
        verdict = *seen == sn::saga::ToString(Verdict::kRejected) ? Verdict::kRejected : Verdict::kCounted;
    } else if (request.action == Action::kIncrement) {
        (void)conn.Exec(kIncrement, request.author_id, request.recipient_id, n);
    } else if (conn.Exec(kDecrement, request.author_id, request.recipient_id, n).Affected() == 0) {
        verdict = Verdict::kRejected;
        sn::saga::inbox::Record(conn, request.event_id, sn::saga::ToString(verdict));
    }
    const sn::saga::CountReply reply{
        sn::ids::NewUuid(),  request.event_id,
        request.action,      verdict,
        request.author_id,   request.recipient_id,
        request.message_ids, verdict == Verdict::kRejected ? std::string(kBelowZero) : std::string()};
    sn::saga::Enqueue(conn, {reply.event_id, std::string(sn::saga::kUnreadMessagesCounted),
                             sn::saga::RoutingKey(request.author_id, request.recipient_id), correlation_id, request_id,
                             sn::saga::ToJson(reply)});
    return seen.has_value();
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
