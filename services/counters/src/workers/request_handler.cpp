#include "workers/request_handler.hpp"

#include "common/log.hpp"
#include "storage/counters.hpp"

namespace counters {

sn::saga::EventHandler MakeRequestHandler(sn::metrics::Registry& metrics) {
    auto& duplicates = metrics.GetCounter("saga_events_deduplicated_total", "Events seen before, not applied again.");
    return [&duplicates](sn::pg::Connection& conn, const sn::amqp::Delivery& delivery) {
        const auto request = sn::saga::ParseCountRequest(delivery.body);
        if (!request) {
            sn::log::Warn("malformed count request dead-lettered",
                          {{"message_id", delivery.message_id}, {"request_id", delivery.request_id}});
            return sn::amqp::Outcome::kReject;
        }
        if (CounterStore::Apply(conn, *request, delivery.correlation_id, delivery.request_id)) {
            duplicates.Add();
        }
        return sn::amqp::Outcome::kAck;
    };
}

}  // namespace counters
