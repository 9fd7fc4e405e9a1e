#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pg/connection.hpp"
#include "saga/events.hpp"

namespace counters {

struct PeerCount {
    std::string user_id;
    std::int64_t count = 0;
};

/// The unread_messages table: applying saga events to it, and reading it.
class CounterStore {
   public:
    /// Applies one count request once (the inbox remembers it) and enqueues the reply, in the
    /// caller's transaction. A request seen before is not applied again; its reply is sent
    /// again, so a saga re-published by the sweeper still finishes. Returns true if it was a
    /// duplicate.
    static bool Apply(sn::pg::Connection& conn, const sn::saga::CountRequest& request,
                      const std::string& correlation_id, const std::string& request_id);

    /// Unread counts of the recipient, per author with a non-zero count.
    static std::vector<PeerCount> ForRecipient(sn::pg::Connection& conn, const std::string& recipient);
    /// Unread messages from author to recipient.
    static std::int64_t Between(sn::pg::Connection& conn, const std::string& author, const std::string& recipient);
};

}  // namespace counters
