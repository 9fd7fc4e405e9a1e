#include "saga/reconcile.hpp"

#include <map>
#include <memory>
#include <set>

#include "common/log.hpp"

namespace sn::saga::reconcile {
namespace {

using Pair = std::pair<std::string, std::string>;  // author, recipient
using Counts = std::map<Pair, std::int64_t>;

constexpr std::string_view kTruth =
    "SELECT author_id, recipient_id, count(*) FROM messages WHERE state = 'UNREAD' GROUP BY 1, 2";
constexpr std::string_view kPending =
    "SELECT DISTINCT author_id, recipient_id FROM messages WHERE state IN ('PENDING_UNREAD', 'PENDING_READ')";
constexpr std::string_view kCounters = "SELECT author_id, recepient_id, count FROM unread_messages WHERE count <> 0";
// One pair's truth and whether a saga of it is in flight (messages_incoming_idx serves the first two
// states, messages_dialog_idx the pair's PENDING_READ ones).
constexpr std::string_view kPairTruth =
    "SELECT count(*) FILTER (WHERE state = 'UNREAD'), "
    "       count(*) FILTER (WHERE state = 'PENDING_UNREAD') "
    "         + (SELECT count(*) FROM messages m WHERE LEAST(m.author_id, m.recipient_id) = LEAST($1::uuid, $2::uuid) "
    "            AND GREATEST(m.author_id, m.recipient_id) = GREATEST($1::uuid, $2::uuid) "
    "            AND m.author_id = $1 AND m.state = 'PENDING_READ') "
    "FROM messages WHERE recipient_id = $2 AND author_id = $1 AND state IN ('PENDING_UNREAD', 'UNREAD')";
// The row is made when missing (a pair with unread messages and no counter), so it can be locked.
constexpr std::string_view kEnsureCounter =
    "INSERT INTO unread_messages (author_id, recepient_id, count) VALUES ($1, $2, 0) "
    "ON CONFLICT (author_id, recepient_id) DO NOTHING";
constexpr std::string_view kLockCounter =
    "SELECT count FROM unread_messages WHERE author_id = $1 AND recepient_id = $2 FOR UPDATE";
constexpr std::string_view kSetCounter =
    "UPDATE unread_messages SET count = $3 WHERE author_id = $1 AND recepient_id = $2 AND count = $4";
// Held for a run (by the session: a broken connection lets it go): a second copy of counters skips the run instead of
// doing it twice.
constexpr std::string_view kTryLock = "SELECT pg_try_advisory_lock(7243100017)";
constexpr std::string_view kUnlock = "SELECT pg_advisory_unlock(7243100017)";

Counts ReadCounts(pg::Connection& conn, std::string_view sql) {
    Counts counts;
    const auto rows = conn.Exec(sql);
    for (int i = 0; i < rows.Rows(); ++i) {
        counts[{rows.String(i, 0), rows.String(i, 1)}] = rows.Int(i, 2);
    }
    return counts;
}

/// Gives the run's advisory lock back, whatever happened; a broken connection has already.
struct AdvisoryUnlock {
    explicit AdvisoryUnlock(pg::Connection& connection) noexcept : conn(connection) {}
    pg::Connection& conn;
    AdvisoryUnlock(const AdvisoryUnlock&) = delete;
    AdvisoryUnlock& operator=(const AdvisoryUnlock&) = delete;
    ~AdvisoryUnlock() {
        try {
            if (conn.Healthy()) {
                (void)conn.Exec(kUnlock);
            }
        } catch (const std::exception&) {
            // the connection broke: the server dropped the lock with the session
        }
    }
};

}  // namespace

Report Scan(pg::Connection& dialogs, pg::Connection& counters) {
    std::set<Pair> pending;
    const auto pending_rows = dialogs.Exec(kPending);
    for (int i = 0; i < pending_rows.Rows(); ++i) {
        pending.insert({pending_rows.String(i, 0), pending_rows.String(i, 1)});
    }
    const auto truth = ReadCounts(dialogs, kTruth);
    const auto counted = ReadCounts(counters, kCounters);

    std::set<Pair> pairs;
    for (const auto& [pair, n] : truth) {
        pairs.insert(pair);
    }
    for (const auto& [pair, n] : counted) {
        pairs.insert(pair);
    }
    Report report;
    report.pending_pairs = pending.size();
    report.pairs_checked = pairs.size();
    for (const auto& pair : pairs) {
        const auto want = truth.contains(pair) ? truth.at(pair) : 0;
        const auto have = counted.contains(pair) ? counted.at(pair) : 0;
        if (want != have) {
            report.drift.push_back(Drift{pair.first, pair.second, want, have, pending.contains(pair)});
        }
    }
    return report;
}

bool RepairPair(pg::Connection& dialogs, pg::Connection& counters, const Drift& drift) {
    pg::Transaction tx(counters);
    (void)counters.Exec(kEnsureCounter, drift.author_id, drift.recipient_id);
    const auto locked = counters.Exec(kLockCounter, drift.author_id, drift.recipient_id);
    const auto have = locked.Empty() ? 0 : locked.Int(0, 0);
    // Every event of the pair that counters applied before the lock has moved its message on (or
    // the message is still PENDING_*), and none is applied until the commit: the truth read now
    // is the one the counter must equal.
    const auto truth = dialogs.Exec(kPairTruth, drift.author_id, drift.recipient_id);
    const auto want = truth.Int(0, 0);
    const auto in_flight = truth.Int(0, 1);
    if (in_flight > 0 || want == have) {
        return false;  // rolled back: the made row (if any) goes with it
    }
    const bool set = counters.Exec(kSetCounter, drift.author_id, drift.recipient_id, want, have).Affected() == 1;
    tx.Commit();
    return set;
}

pg::PeriodicJob::Job MakeJob(std::string dialogs_dsn, std::chrono::milliseconds statement_timeout,
                             metrics::Registry& metrics) {
    auto& repaired = metrics.GetCounter("saga_reconcile_repaired_total",
                                        "Counters set to the dialogs' truth by the periodic reconciliation.");
    auto& drifted = metrics.GetGauge("saga_reconcile_drifted_pairs",
                                     "Pairs whose counter differed from the truth at the last reconciliation.");
    auto& runs = metrics.GetCounter("saga_reconcile_runs_total", "Periodic reconciliations run to the end.");
    // The job is copied into the thread that runs it; the dialogs connection is opened on first use.
    auto dialogs = std::make_shared<std::unique_ptr<pg::Connection>>();
    return [dsn = std::move(dialogs_dsn), statement_timeout, dialogs, &repaired, &drifted,
            &runs](pg::Connection& counters) {
        if (!*dialogs || !(*dialogs)->Healthy()) {
            *dialogs = std::make_unique<pg::Connection>(dsn, statement_timeout);
        }
        if (!counters.Exec(kTryLock).Bool(0, 0)) {
            return;  // another copy of counters is at it
        }
        const AdvisoryUnlock unlock{counters};
        const auto report = Scan(**dialogs, counters);
        drifted.Set(static_cast<double>(report.drift.size()));
        for (const auto& drift : report.drift) {
            if (drift.in_flight || !RepairPair(**dialogs, counters, drift)) {
                continue;  // a saga of the pair is in flight, or it moved the counter meanwhile
            }
            repaired.Add();
            log::Warn("reconciliation repaired a counter", {{"author_id", drift.author_id},
                                                            {"recipient_id", drift.recipient_id},
                                                            {"counter", drift.counter},
                                                            {"unread_messages", drift.unread_messages}});
        }
        runs.Add();
    };
}

}  // namespace sn::saga::reconcile
