#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pg/connection.hpp"
#include "saga/consumer.hpp"
#include "saga/events.hpp"

namespace dialogs {

/// A message as the API shows it, viewing strings that someone else keeps.
struct MessageView {
    std::string_view id;
    std::string_view author_id;
    std::string_view recipient_id;
    std::string_view text;
    std::string_view state;
    std::int64_t created_us = 0;  // since the Unix epoch
};

/// A message that keeps its own strings.
struct Message {
    std::string id;
    std::string author_id;
    std::string recipient_id;
    std::string text;
    std::string state;
    std::int64_t created_us = 0;

    [[nodiscard]] MessageView View() const noexcept { return {id, author_id, recipient_id, text, state, created_us}; }
};

/// A message to send, and the request sending it (its saga's event carries the request id).
struct SendRequest {
    std::string author_id;
    std::string recipient_id;
    std::string text;
    std::string request_id;
};

/// A page of a dialog: views into the query's result, which it keeps, and into the two
/// participants' ids, which the caller keeps. Nothing is copied per message.
struct MessagePage {
    sn::pg::Result rows;
    std::vector<MessageView> messages;  // oldest first
    /// When asked: MarkRead would touch something of `me`'s. An empty page cannot tell: true.
    bool to_mark = false;
};

/// What applying one reply did, for metrics.
struct ReplyEffect {
    int moved = 0;                          // messages whose state changed
    std::vector<double> latencies_seconds;  // per message: send -> UNREAD or read -> READ
    bool compensated = false;               // a rejected step was undone
};

/// The messages table and the saga steps that move it. Every function runs inside the caller's
/// transaction, and writes any event it implies into the outbox in that same transaction.
class MessageStore {
   public:
    /// Stores the messages as PENDING_UNREAD and enqueues an increment event for each, in one
    /// statement: atomic with or without a transaction around it. The messages, in order.
    static std::vector<Message> Send(sn::pg::Connection& conn, std::span<const SendRequest> requests);

    /// Moves the reader's incoming UNREAD messages from `peer` to PENDING_READ (with decrement
    /// events) and flags those still PENDING_UNREAD to follow once counted. Returns how many
    /// messages the call touched.
    static int MarkRead(sn::pg::Connection& conn, const std::string& reader, const std::string& peer,
                        const std::string& request_id);

    /// Up to `limit` messages of the dialog older than `before` (all when nullopt), oldest first.
    /// `me` and `peer` must outlive the page. `ask_to_mark`: the same statement also tells
    /// whether MarkRead(me, peer) would touch anything (MessagePage::to_mark).
    static MessagePage Page(sn::pg::Connection& conn, const std::string& me, const std::string& peer,
                            const std::optional<std::string>& before, int limit, bool ask_to_mark = false);

    /// Moves the messages the replies name on, guarded by their expected state and event, so a
    /// replayed or stale reply changes nothing. The counted increments of all the replies go in
    /// one statement. One effect per reply, in order.
    static std::vector<ReplyEffect> ApplyReplies(sn::pg::Connection& conn,
                                                 std::span<const sn::saga::Received<sn::saga::CountReply>> replies);

    /// Re-enqueues, with their original event ids, the events of sagas that have been PENDING
    /// longer than `timeout`. Returns how many events it re-enqueued.
    static int Sweep(sn::pg::Connection& conn, std::chrono::milliseconds timeout);

    /// Number of messages in each PENDING_* state (served by a partial index, unlike a count of
    /// all states).
    static std::map<std::string, std::int64_t> InFlight(sn::pg::Connection& conn);

   private:
    /// A reply other than a counted increment (rarer: reads and refusals), alone.
    static ReplyEffect ApplyOtherReply(sn::pg::Connection& conn, const sn::saga::CountReply& reply);
};

}  // namespace dialogs
