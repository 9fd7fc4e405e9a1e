#include "workers/reply_handler.hpp"

#include "common/log.hpp"
#include "storage/messages.hpp"

namespace dialogs {
namespace {

/// A saga that waits for a restarted service, a backlog or the sweeper takes tens of seconds.
std::vector<double> SagaBuckets() {
    auto bounds = sn::metrics::LatencyBuckets();
    bounds.insert(bounds.end(), {30, 60, 120});
    return bounds;
}

}  // namespace

sn::saga::BatchHandler MakeReplyHandler(sn::metrics::Registry& metrics) {
    auto& unread_latency =
        metrics.GetHistogram("saga_send_to_unread_seconds", "From send to UNREAD.", {}, SagaBuckets());
    auto& read_latency = metrics.GetHistogram("saga_read_to_read_seconds", "From read to READ.", {}, SagaBuckets());
    auto& compensated = metrics.GetCounter("saga_compensations_total", "Rejected steps undone.");
    return [&](sn::pg::Connection& conn, std::span<const sn::amqp::Delivery> batch) {
        std::vector<sn::amqp::Outcome> outcomes(batch.size(), sn::amqp::Outcome::kAck);
        const auto replies = sn::saga::ParseBatch(batch, &sn::saga::ParseCountReply, outcomes);
        const auto effects = MessageStore::ApplyReplies(conn, replies);
        for (std::size_t i = 0; i < replies.size(); ++i) {
            const auto& reply = replies[i].event;
            const auto& effect = effects[i];
            auto& histogram = reply.action == sn::saga::Action::kIncrement ? unread_latency : read_latency;
            for (const double seconds : effect.latencies_seconds) {
                histogram.Observe(seconds);
            }
            if (effect.compensated) {
                compensated.Add();
                sn::log::Warn("saga step rejected by counters; compensated",
                              {{"event_id", reply.in_reply_to},
                               {"reason", reply.reason},
                               {"request_id", replies[i].delivery->request_id},
                               {"messages", effect.moved}});
            }
        }
        return outcomes;
    };
}

}  // namespace dialogs
