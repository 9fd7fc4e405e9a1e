#include "workers/reply_handler.hpp"

#include "common/log.hpp"
#include "storage/messages.hpp"

namespace dialogs {

sn::saga::EventHandler MakeReplyHandler(sn::metrics::Registry& metrics) {
    auto& unread_latency = metrics.GetHistogram("saga_send_to_unread_seconds", "From send to UNREAD.");
    auto& read_latency = metrics.GetHistogram("saga_read_to_read_seconds", "From read to READ.");
    auto& compensated = metrics.GetCounter("saga_compensations_total", "Rejected steps undone.");
    return [&](sn::pg::Connection& conn, const sn::amqp::Delivery& delivery) {
        const auto reply = sn::saga::ParseCountReply(delivery.body);
        if (!reply) {
            sn::log::Warn("malformed reply dead-lettered",
                          {{"message_id", delivery.message_id}, {"request_id", delivery.request_id}});
            return sn::amqp::Outcome::kReject;
        }
        const auto effect = MessageStore::ApplyReply(conn, *reply, delivery.request_id);
        auto& histogram = reply->action == sn::saga::Action::kIncrement ? unread_latency : read_latency;
        for (const double seconds : effect.latencies_seconds) {
            histogram.Observe(seconds);
        }
        if (effect.compensated) {
            compensated.Add();
            sn::log::Warn("saga step rejected by counters; compensated", {{"event_id", reply->in_reply_to},
                                                                          {"reason", reply->reason},
                                                                          {"request_id", delivery.request_id},
                                                                          {"messages", effect.moved}});
        }
        return sn::amqp::Outcome::kAck;
    };
}

}  // namespace dialogs
