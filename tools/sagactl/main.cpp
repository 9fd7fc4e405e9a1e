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
#include <string>

#include "pg/connection.hpp"
#include "saga/reconcile.hpp"

namespace {

std::string Env(const char* name, const char* fallback) {
    const char* value = std::getenv(name);
    return value != nullptr ? value : fallback;
}

}  // namespace

int main(int argc, char** argv) {
    namespace reconcile = sn::saga::reconcile;
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
        const auto report = reconcile::Scan(dialogs, counters);
        boost::json::array drift;
        int repaired = 0;
        for (const auto& pair : report.drift) {
            if (command == "reconcile" && pair.in_flight) {
                continue;
            }
            drift.push_back({{"author_id", pair.author_id},
                             {"recipient_id", pair.recipient_id},
                             {"unread_messages", pair.unread_messages},
                             {"counter", pair.counter},
                             {"in_flight", pair.in_flight}});
            if (repair && !pair.in_flight) {
                repaired += reconcile::RepairPair(dialogs, counters, pair) ? 1 : 0;
            }
        }
        boost::json::object out{{"pending_pairs", report.pending_pairs},
                                {"pairs_checked", report.pairs_checked},
                                {"drift", drift},
                                {"repaired", repaired}};
        std::cout << boost::json::serialize(out) << "\n";
        if (command == "check") {
            return report.pending_pairs == 0 && drift.empty() ? 0 : 1;
        }
        return drift.empty() || repaired == static_cast<int>(drift.size()) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "sagactl: " << e.what() << "\n";
        return 2;
    }
}
