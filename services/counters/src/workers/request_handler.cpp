#include "workers/request_handler.hpp"

#include "common/log.hpp"
#include "storage/counters.hpp"

namespace counters {

sn::saga::BatchHandler MakeRequestHandler(sn::metrics::Registry& metrics) {
    auto& duplicates = metrics.GetCounter("saga_events_deduplicated_total", "Events seen before, not applied again.");
    return [&duplicates](sn::pg::Connection& conn, std::span<const sn::amqp::Delivery> batch) {
        std::vector<sn::amqp::Outcome> outcomes(batch.size(), sn::amqp::Outcome::kAck);
        std::vector<CountRequestDelivery> requests;
        requests.reserve(batch.size());
        for (std::size_t i = 0; i < batch.size(); ++i) {
            auto request = sn::saga::ParseCountRequest(batch[i].body);
            if (!request) {
                sn::log::Warn("malformed count request dead-lettered",
                              {{"message_id", batch[i].message_id}, {"request_id", batch[i].request_id}});
                outcomes[i] = sn::amqp::Outcome::kReject;
                continue;
            }
            requests.push_back({std::move(*request), batch[i].correlation_id, batch[i].request_id});
        }
        duplicates.Add(CounterStore::Apply(conn, requests));
        return outcomes;
    };
}

}  // namespace counters
