// sagactl: the saga's invariant checker and reconciliation command.
//
//   sagactl check            exit 0 when no message is PENDING_* and every counter equals the
//                            number of UNREAD messages of its pair; else print the drift, exit 1
//   sagactl reconcile        report the drift of pairs that are quiet (no saga in flight)
//   sagactl reconcile --repair   set those counters to the dialogs' truth (compare-and-set, so a
//                            counter the saga moves meanwhile is left alone)
//
// DIALOGS_PG_DSN and COUNTERS_PG_DSN say where the two databases are.
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include "pg/connection.hpp"

namespace {

using Pair = std::pair<std::string, std::string>;  // author, recipient
using Counts = std::map<Pair, std::int64_t>;

constexpr std::string_view kTruth =
    "SELECT author_id, recipient_id, count(*) FROM messages WHERE state = 'UNREAD' GROUP BY 1, 2";
constexpr std::string_view kPending =
    "SELECT DISTINCT author_id, recipient_id FROM messages WHERE state IN ('PENDING_UNREAD', 'PENDING_READ')";
constexpr std::string_view kCounters = "SELECT author_id, recepient_id, count FROM unread_messages WHERE count <> 0";
constexpr std::string_view kCompareAndSet =
    "INSERT INTO unread_messages (author_id, recepient_id, count) VALUES ($1, $2, $3) "
    "ON CONFLICT (author_id, recepient_id) DO UPDATE SET count = EXCLUDED.count "
    "WHERE unread_messages.count = $4";

std::string Env(const char* name, const char* fallback) {
    const char* value = std::getenv(name);
    return value != nullptr ? value : fallback;
}

Counts ReadCounts(sn::pg::Connection& conn, std::string_view sql) {
    Counts counts;
    const auto rows = conn.Exec(sql);
    for (int i = 0; i < rows.Rows(); ++i) {
        counts[{rows.String(i, 0), rows.String(i, 1)}] = rows.Int(i, 2);
    }
    return counts;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string command = argc > 1 ? argv[1] : "";
    const bool repair = argc > 2 && std::string(argv[2]) == "--repair";
    if (command != "check" && command != "reconcile") {
        std::cerr << "usage: sagactl check | sagactl reconcile [--repair]\n";
        return 2;
    }
    try {
        const std::chrono::milliseconds timeout(60'000);
        sn::pg::Connection dialogs(Env("DIALOGS_PG_DSN", "host=127.0.0.1 port=55432 user=postgres dbname=dialogs"),
                                   timeout);
        sn::pg::Connection counters(Env("COUNTERS_PG_DSN", "host=127.0.0.1 port=55432 user=postgres dbname=counters"),
                                    timeout);

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
        boost::json::array drift;
        int repaired = 0;
        for (const auto& pair : pairs) {
            const auto want = truth.contains(pair) ? truth.at(pair) : 0;
            const auto have = counted.contains(pair) ? counted.at(pair) : 0;
            const bool in_flight = pending.contains(pair);
            if (want == have || (command == "reconcile" && in_flight)) {
                continue;
            }
            drift.push_back({{"author_id", pair.first},
                             {"recipient_id", pair.second},
                             {"unread_messages", want},
                             {"counter", have},
                             {"in_flight", in_flight}});
            if (repair && !in_flight) {
                repaired +=
                    static_cast<int>(counters.Exec(kCompareAndSet, pair.first, pair.second, want, have).Affected());
            }
        }
        boost::json::object report{{"pending_pairs", pending.size()},
                                   {"pairs_checked", pairs.size()},
                                   {"drift", drift},
                                   {"repaired", repaired}};
        std::cout << boost::json::serialize(report) << "\n";
        if (command == "check") {
            return pending.empty() && drift.empty() ? 0 : 1;
        }
        return drift.empty() || repaired == static_cast<int>(drift.size()) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "sagactl: " << e.what() << "\n";
        return 2;
    }
}
