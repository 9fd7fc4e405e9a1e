#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/metrics.hpp"
#include "pg/connection.hpp"
#include "pg/periodic_job.hpp"

/// Reconciliation: counters recomputed from the dialogs' truth (the number of UNREAD messages of
/// each pair), drift reported and, for pairs with no saga in flight, repaired. One mechanism for
/// `sagactl reconcile` and the periodic job in counters.
namespace sn::saga::reconcile {

/// A pair whose counter differs from the number of its UNREAD messages.
struct Drift {
    std::string author_id;
    std::string recipient_id;
    std::int64_t unread_messages = 0;  // the dialogs' truth
    std::int64_t counter = 0;          // what counters holds
    bool in_flight = false;            // a saga of the pair is PENDING_*: the difference may be the saga's own
};

struct Report {
    std::size_t pending_pairs = 0;
    std::size_t pairs_checked = 0;
    std::vector<Drift> drift;
};

/// Compares every pair (dialogs read before counters, outside any transaction: a pair may look
/// drifted while a saga moves it, hence RepairPair's second look).
[[nodiscard]] Report Scan(pg::Connection& dialogs, pg::Connection& counters);

/// Looks at one pair again and sets its counter to the truth, compare-and-set: in one counters
/// transaction that holds the counter's row lock (so no event of the pair is applied meanwhile),
/// reads the pair's messages; no saga in flight and a difference still there: the counter is set.
/// True when it was changed.
[[nodiscard]] bool RepairPair(pg::Connection& dialogs, pg::Connection& counters, const Drift& drift);

/// The periodic job, run against counters' database: Scan, then RepairPair for each quiet drifted
/// pair, a log line for each repair and `saga_reconcile_repaired_total` counting them. Only one copy
/// of counters runs it at a time (an advisory lock). `dialogs_dsn`: read-only access to the
/// dialogs' messages.
[[nodiscard]] pg::PeriodicJob::Job MakeJob(std::string dialogs_dsn, std::chrono::milliseconds statement_timeout,
                                           metrics::Registry& metrics);

}  // namespace sn::saga::reconcile
