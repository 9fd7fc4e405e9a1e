#include "storage/messages.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "common/ids.hpp"
#include "saga/outbox.hpp"

namespace dialogs {
namespace {

using sn::saga::Action;
using sn::saga::CountRequest;
using sn::saga::Verdict;

// Seconds since the Unix epoch as a float8, read back as whole microseconds (CreatedMicros) and
// formatted by the service (sn::time), not per row by PostgreSQL: to_char cost a fifth of its work
// in listing, and the exact numeric `extract(epoch ...)` another fifth of a page (pgbench of the
// page statement: 9,907 pages/s with it, 11,452 with this). A double holds the microsecond of any
// date before 2106 within a quarter of a microsecond, so rounding finds it exactly (live test).
#define SN_CREATED_US "date_part('epoch', created_at)"

// With their increment events in one statement (saga::EnqueueWith): parameters from $7, one array
// per column.
constexpr std::string_view kInsert =
    "INSERT INTO messages (id, author_id, recipient_id, text, event_id) "
    "SELECT * FROM unnest($7::uuid[], $8::uuid[], $9::uuid[], $10::text[], $11::uuid[]) "
    "RETURNING id, " SN_CREATED_US;

// One chunk of the reader's UNREAD messages after id $5 goes to PENDING_READ under one decrement
// event. The incoming index is in id order within the dialog, so a chunk starts where the last
// one ended instead of walking past the entries it marked (migration 002).
constexpr std::string_view kMarkReadChunk =
    "UPDATE messages SET state = 'PENDING_READ', event_id = $3, read_at = now(), state_changed_at = now() "
    "WHERE id IN (SELECT id FROM messages WHERE recipient_id = $1 AND author_id = $2 AND id > $5 "
    "             AND state = 'UNREAD' ORDER BY id LIMIT $4 FOR UPDATE) "
    "RETURNING id";
// Below every UUID: where the first chunk starts.
constexpr std::string_view kNilUuid = "00000000-0000-0000-0000-000000000000";
// Through the dialog's incoming index; `IS TRUE` keeps it off the index of all pending rows (see
// the replies below).
constexpr std::string_view kFlagPendingUnread =
    "UPDATE messages SET read_requested = true "
    "WHERE recipient_id = $1 AND author_id = $2 AND state IN ('PENDING_UNREAD', 'UNREAD') "
    "  AND (state = 'PENDING_UNREAD') IS TRUE AND NOT read_requested";

// Only what the caller does not know: who wrote each message is one of the two it names (printing
// two more uuids per row, and the timestamp, was a fifth of PostgreSQL's work in listing).
#define SN_PAGE_COLUMNS "SELECT id, author_id = $1::uuid, text, state, " SN_CREATED_US
#define SN_PAGE_ROWS                                                          \
    " FROM messages "                                                         \
    "WHERE LEAST(author_id, recipient_id) = LEAST($1::uuid, $2::uuid) "       \
    "  AND GREATEST(author_id, recipient_id) = GREATEST($1::uuid, $2::uuid) " \
    "  AND ($3::uuid IS NULL OR id < $3::uuid) "                              \
    "ORDER BY id DESC LIMIT $4"
constexpr std::string_view kPage = SN_PAGE_COLUMNS SN_PAGE_ROWS;
// The same, and whether MarkRead would touch anything: an uncorrelated subquery, run once per
// statement through the incoming index. (Not one statement with a flag parameter: PostgreSQL then
// planned it anew for every call, the flag folding each custom plan differently from the generic
// one, and the plain page cost half as much again.)
constexpr std::string_view kPageAskingToMark = SN_PAGE_COLUMNS
    ", EXISTS (SELECT FROM messages WHERE recipient_id = $1::uuid AND author_id = $2::uuid"
    "          AND state IN ('PENDING_UNREAD', 'UNREAD') AND (state = 'UNREAD' OR NOT read_requested))" SN_PAGE_ROWS;

// Replies: each transition names the state and the event it expects, so a replay is a no-op.
// The expected state is written `(state = ...) IS TRUE` so that the planner cannot match it to
// the partial indexes on state: with statistics taken while few sagas were pending it estimated
// one PENDING row and read every pending row for each batch; behind a backlog of 70,000 that was
// a second per batch of 200 (docs/performance.md). The messages are found by event id instead.
// Counted increments, all of a batch at once: (message, expected event, next event, reply index)
// rows. Each message goes to UNREAD, or straight on to PENDING_READ under the next event if it
// was read meanwhile. SET expressions all see the row as it was, so read_requested is the old value.
constexpr std::string_view kIncrementsCounted =
    "UPDATE messages m SET "
    "    state = CASE WHEN m.read_requested THEN 'PENDING_READ' ELSE 'UNREAD' END, "
    "    event_id = CASE WHEN m.read_requested THEN r.next_event ELSE m.event_id END, "
    "    read_at = CASE WHEN m.read_requested THEN now() ELSE m.read_at END, "
    "    read_requested = false, state_changed_at = now() "
    "FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[]) AS r(id, event_id, next_event, reply) "
    "WHERE m.id = r.id AND m.event_id = r.event_id AND (m.state = 'PENDING_UNREAD') IS TRUE "
    "RETURNING extract(epoch FROM clock_timestamp() - m.created_at), m.id, m.state = 'PENDING_READ', r.reply";
constexpr std::string_view kIncrementRejected =
    "UPDATE messages SET state = 'READ', state_changed_at = now() "
    "WHERE id = ANY($1::uuid[]) AND event_id = $2 AND (state = 'PENDING_UNREAD') IS TRUE RETURNING 0";
constexpr std::string_view kDecrementCounted =
    "UPDATE messages SET state = 'READ', state_changed_at = now() "
    "WHERE id = ANY($1::uuid[]) AND event_id = $2 AND (state = 'PENDING_READ') IS TRUE "
    "RETURNING extract(epoch FROM clock_timestamp() - read_at)";
constexpr std::string_view kDecrementRejected =
    "UPDATE messages SET state = 'UNREAD', read_at = NULL, state_changed_at = now() "
    "WHERE id = ANY($1::uuid[]) AND event_id = $2 AND (state = 'PENDING_READ') IS TRUE RETURNING 0";

// Whole events only: a decrement event's messages are re-sent together, never split. The oldest
// stuck rows come from the partial index on state_changed_at (ORDER BY makes the planner use it
// rather than walk every event id); rows a reply is moving right now are skipped, not waited for
// (waiting deadlocked with the reply consumer, which locks in another order).
constexpr std::string_view kSweep =
    "WITH stuck AS ("
    "    SELECT DISTINCT event_id FROM ("
    "        SELECT event_id FROM messages "
    "        WHERE state IN ('PENDING_UNREAD', 'PENDING_READ') "
    "          AND state_changed_at < now() - $1 * interval '1 millisecond' "
    "        ORDER BY state_changed_at LIMIT 5000 FOR UPDATE SKIP LOCKED) oldest "
    "    LIMIT 500) "
    "UPDATE messages m SET state_changed_at = now() FROM stuck "
    "WHERE m.event_id = stuck.event_id AND m.state IN ('PENDING_UNREAD', 'PENDING_READ') "
    "RETURNING m.event_id, m.state, m.author_id, m.recipient_id, m.id";
// Through the partial index (ORDER BY + LIMIT keep the planner off a scan of the whole table,
// which it picks when its statistics were taken under load); counts up to a million.
constexpr std::string_view kInFlight =
    "SELECT state, count(*) FROM ("
    "    SELECT state FROM messages WHERE state IN ('PENDING_UNREAD', 'PENDING_READ') "
    "    ORDER BY state_changed_at LIMIT 1000000) pending "
    "GROUP BY state";

sn::saga::OutboxEvent ToOutbox(CountRequest request, const std::string& request_id) {
    std::sort(request.message_ids.begin(), request.message_ids.end());
    // The saga id: the message itself for a send, the read event for a read of many.
    auto correlation_id = request.message_ids.size() == 1 ? request.message_ids.front() : request.event_id;
    return {request.event_id,
            std::string(sn::saga::kUnreadMessages),
            sn::saga::RoutingKey(request.author_id, request.recipient_id),
            std::move(correlation_id),
            request_id,
            sn::saga::ToJson(request)};
}

/// A SN_CREATED_US column as microseconds since the epoch.
std::int64_t CreatedMicros(const sn::pg::Result& rows, int row, int col) {
    const auto text = rows.Text(row, col);
    double seconds = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        throw std::runtime_error("created_at is not a number of seconds: " + std::string(text));
    }
    return std::llround(seconds * 1e6);
}

std::vector<std::string> Column(const sn::pg::Result& rows, int col) {
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(rows.Rows()));
    for (int i = 0; i < rows.Rows(); ++i) {
        out.push_back(rows.String(i, col));
    }
    return out;
}

std::vector<double> Seconds(const sn::pg::Result& rows, int col) {
    std::vector<double> out;
    for (int i = 0; i < rows.Rows(); ++i) {
        out.push_back(std::stod(rows.String(i, col)));
    }
    return out;
}

}  // namespace

std::vector<Message> MessageStore::Send(sn::pg::Connection& conn, std::span<const SendRequest> requests) {
    std::vector<Message> messages;
    std::vector<sn::saga::OutboxEvent> events;
    std::vector<std::string> ids, authors, recipients, texts, event_ids;
    for (const auto& request : requests) {
        auto& message = messages.emplace_back(
            Message{sn::ids::NewUuid(), request.author_id, request.recipient_id, request.text, "PENDING_UNREAD", 0});
        const auto event_id = sn::ids::NewUuid();
        events.push_back(ToOutbox({event_id, Action::kIncrement, message.author_id, message.recipient_id, {message.id}},
                                  request.request_id));
        ids.push_back(message.id);
        authors.push_back(message.author_id);
        recipients.push_back(message.recipient_id);
        texts.push_back(message.text);
        event_ids.push_back(event_id);
    }
    const auto rows = sn::saga::EnqueueWith(conn, events, kInsert, ids, authors, recipients, texts, event_ids);
    // RETURNING follows the insert's order in practice, but nothing promises it: match by id.
    std::unordered_map<std::string_view, std::int64_t> created;
    for (int row = 0; row < rows.Rows(); ++row) {
        created.emplace(rows.Text(row, 0), CreatedMicros(rows, row, 1));
    }
    for (auto& message : messages) {
        message.created_us = created.at(message.id);
    }
    return messages;
}

int MessageStore::MarkRead(sn::pg::Connection& conn, const std::string& reader, const std::string& peer,
                           const std::string& request_id) {
    // Flag first, then mark: a reply that moves a message to UNREAD between the two statements
    // would otherwise leave it neither marked (it was still PENDING_UNREAD for the chunk) nor
    // flagged (already UNREAD for the flag): a read lost. This way a flagged row is locked until
    // commit, so the reply waits and then sees the flag; a row the reply moved first is UNREAD
    // for the chunks, which run after it.
    int touched = static_cast<int>(conn.Exec(kFlagPendingUnread, reader, peer).Affected());
    const auto chunk = static_cast<std::int64_t>(sn::saga::kMaxMessagesPerEvent);
    std::string after(kNilUuid);
    for (;;) {
        const auto event_id = sn::ids::NewUuid();
        auto ids = Column(conn.Exec(kMarkReadChunk, reader, peer, event_id, chunk, after), 0);
        if (ids.empty()) {
            break;
        }
        touched += static_cast<int>(ids.size());
        const bool last = static_cast<std::int64_t>(ids.size()) < chunk;
        after = *std::max_element(ids.begin(), ids.end());  // RETURNING keeps no order
        sn::saga::Enqueue(conn, ToOutbox({event_id, Action::kDecrement, peer, reader, std::move(ids)}, request_id));
        if (last) {
            break;
        }
    }
    return touched;
}

MessagePage MessageStore::Page(sn::pg::Connection& conn, const std::string& me, const std::string& peer,
                               const std::optional<std::string>& before, int limit, bool ask_to_mark) {
    MessagePage page{conn.Exec(ask_to_mark ? kPageAskingToMark : kPage, me, peer, before, limit), {}, false};
    const auto& rows = page.rows;
    page.to_mark = ask_to_mark && (rows.Rows() == 0 || rows.Bool(0, 5));
    page.messages.resize(static_cast<std::size_t>(rows.Rows()));
    // Newest first from the index; the API lists oldest first.
    for (int i = 0; i < rows.Rows(); ++i) {
        const bool mine = rows.Bool(i, 1);
        page.messages[static_cast<std::size_t>(rows.Rows() - 1 - i)] =
            MessageView{rows.Text(i, 0), mine ? me : peer, mine ? peer : me,
                        rows.Text(i, 2), rows.Text(i, 3),  CreatedMicros(rows, i, 4)};
    }
    return page;
}

std::vector<ReplyEffect> MessageStore::ApplyReplies(sn::pg::Connection& conn,
                                                    std::span<const sn::saga::Received<sn::saga::CountReply>> replies) {
    std::vector<ReplyEffect> effects(replies.size());
    // Counted increments (nearly every reply: one per message sent) go in one statement, keyed by
    // message id so that every copy of dialogs locks the rows in one order. The next event is
    // the decrement a reply's messages get if they were read while being counted.
    struct Move {
        std::string expected_event;
        std::size_t reply = 0;
    };
    std::map<std::string, Move> moves;
    std::vector<std::string> next_event_of(replies.size());
    for (std::size_t i = 0; i < replies.size(); ++i) {
        const auto& reply = replies[i].event;
        if (reply.action == Action::kIncrement && reply.verdict == Verdict::kCounted) {
            next_event_of[i] = sn::ids::NewUuid();
            for (const auto& id : reply.message_ids) {
                moves.emplace(id, Move{reply.in_reply_to, i});
            }
        } else {
            effects[i] = ApplyOtherReply(conn, reply);
        }
    }
    if (moves.empty()) {
        return effects;
    }
    std::vector<std::string> ids, expected, next, reply_index;
    for (const auto& [id, move] : moves) {
        ids.push_back(id);
        expected.push_back(move.expected_event);
        next.push_back(next_event_of[move.reply]);
        reply_index.push_back(std::to_string(move.reply));
    }
    const auto rows = conn.Exec(kIncrementsCounted, ids, expected, next, reply_index);
    std::map<std::size_t, std::vector<std::string>> read_meanwhile;  // reply -> its messages to decrement
    for (int row = 0; row < rows.Rows(); ++row) {
        const auto i = static_cast<std::size_t>(rows.Int(row, 3));
        effects[i].moved += 1;
        effects[i].latencies_seconds.push_back(std::stod(rows.String(row, 0)));
        if (rows.Bool(row, 2)) {
            read_meanwhile[i].push_back(rows.String(row, 1));
        }
    }
    std::vector<sn::saga::OutboxEvent> decrements;
    for (auto& [i, read] : read_meanwhile) {
        const auto& reply = replies[i].event;
        decrements.push_back(
            ToOutbox({next_event_of[i], Action::kDecrement, reply.author_id, reply.recipient_id, std::move(read)},
                     replies[i].delivery->request_id));
    }
    sn::saga::EnqueueAll(conn, decrements);
    return effects;
}

ReplyEffect MessageStore::ApplyOtherReply(sn::pg::Connection& conn, const sn::saga::CountReply& reply) {
    ReplyEffect effect;
    const auto& ids = reply.message_ids;
    const auto record = [&effect](const sn::pg::Result& rows, int latency_col) {
        effect.moved += rows.Rows();
        if (latency_col >= 0) {
            auto seconds = Seconds(rows, latency_col);
            effect.latencies_seconds.insert(effect.latencies_seconds.end(), seconds.begin(), seconds.end());
        }
    };
    if (reply.action == Action::kIncrement) {
        // Not counted, so it must not stay unread: counters only rejects what it can never count.
        record(conn.Exec(kIncrementRejected, ids, reply.in_reply_to), -1);
        effect.compensated = effect.moved > 0;
    } else if (reply.verdict == Verdict::kCounted) {
        record(conn.Exec(kDecrementCounted, ids, reply.in_reply_to), 0);
    } else {
        // The counter refused to go below zero: undo the read step, the messages stay UNREAD.
        record(conn.Exec(kDecrementRejected, ids, reply.in_reply_to), -1);
        effect.compensated = effect.moved > 0;
    }
    return effect;
}

int MessageStore::Sweep(sn::pg::Connection& conn, std::chrono::milliseconds timeout) {
    const auto rows = conn.Exec(kSweep, static_cast<std::int64_t>(timeout.count()));
    std::map<std::string, CountRequest> events;
    for (int i = 0; i < rows.Rows(); ++i) {
        auto& event = events[rows.String(i, 0)];
        event.event_id = rows.String(i, 0);
        event.action = rows.Text(i, 1) == "PENDING_UNREAD" ? Action::kIncrement : Action::kDecrement;
        event.author_id = rows.String(i, 2);
        event.recipient_id = rows.String(i, 3);
        event.message_ids.push_back(rows.String(i, 4));
    }
    std::vector<sn::saga::OutboxEvent> republished;
    republished.reserve(events.size());
    for (auto& [id, event] : events) {
        republished.push_back(ToOutbox(std::move(event), "sweeper"));
    }
    sn::saga::EnqueueAll(conn, republished);
    return static_cast<int>(republished.size());
}

std::map<std::string, std::int64_t> MessageStore::InFlight(sn::pg::Connection& conn) {
    std::map<std::string, std::int64_t> counts{{"PENDING_UNREAD", 0}, {"PENDING_READ", 0}};
    const auto rows = conn.Exec(kInFlight);
    for (int i = 0; i < rows.Rows(); ++i) {
        counts[rows.String(i, 0)] = rows.Int(i, 1);
    }
    return counts;
}

}  // namespace dialogs
