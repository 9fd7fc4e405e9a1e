#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pg/connection.hpp"
#include "saga/consumer.hpp"
#include "saga/events.hpp"

namespace counters {

struct PeerCount {
    std::string user_id;
    std::int64_t count = 0;
};

/// The unread_messages table: applying saga events to it, and reading it.
class CounterStore {
   public:
    /// Applies each count request once (the inbox remembers it) and enqueues the replies, in the
    /// caller's transaction, with a handful of statements for the whole batch. A request seen
    /// before (in an earlier batch or earlier in this one) is not applied again; its reply is sent
    /// again, so a saga re-published by the sweeper still finishes. Increments are summed per pair
    /// first; decrements are applied one by one, in order, since each may be refused (a counter
    /// never goes below zero). Returns how many were duplicates.
    static std::size_t Apply(sn::pg::Connection& conn,
                             std::span<const sn::saga::Received<sn::saga::CountRequest>> batch);

    /// Unread counts of the recipient, per author with a non-zero count.
    static std::vector<PeerCount> ForRecipient(sn::pg::Connection& conn, const std::string& recipient);
    /// Unread messages from author to recipient.
    static std::int64_t Between(sn::pg::Connection& conn, const std::string& author, const std::string& recipient);
};

}  // namespace counters
