#include "workers/request_handler.hpp"

#include "storage/counters.hpp"

namespace counters {

sn::saga::BatchHandler MakeRequestHandler(sn::metrics::Registry& metrics) {
    auto& duplicates = metrics.GetCounter("saga_events_deduplicated_total", "Events seen before, not applied again.");
    return [&duplicates](sn::pg::Connection& conn, std::span<const sn::amqp::Delivery> batch) {
        std::vector<sn::amqp::Outcome> outcomes(batch.size(), sn::amqp::Outcome::kAck);
        const auto requests = sn::saga::ParseBatch(batch, &sn::saga::ParseCountRequest, outcomes);
        duplicates.Add(CounterStore::Apply(conn, requests));
        return outcomes;
    };
}

}  // namespace counters
