#include "workers/sweeper.hpp"

#include "common/log.hpp"
#include "storage/messages.hpp"

namespace dialogs {

sn::pg::PeriodicJob::Job MakeSweep(std::chrono::milliseconds timeout, sn::metrics::Registry& metrics) {
    auto& republished = metrics.GetCounter("saga_events_republished_total", "Events of stuck sagas sent again.");
    return [timeout, &republished, &metrics](sn::pg::Connection& conn) {
        sn::pg::Transaction tx(conn);
        const int events = MessageStore::Sweep(conn, timeout);
        tx.Commit();
        if (events > 0) {
            republished.Add(static_cast<std::uint64_t>(events));
            sn::log::Info("re-published events of stuck sagas", {{"events", events}});
        }
        for (const auto& [state, count] : MessageStore::InFlight(conn)) {
            metrics.GetGauge("saga_messages_in_flight", "Messages in a PENDING_* state.", {{"state", state}})
                .Set(static_cast<double>(count));
        }
    };
}

}  // namespace dialogs
