#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "amqp/consumer.hpp"
#include "common/metrics.hpp"
#include "pg/connection.hpp"

namespace sn::saga {

/// Applies one event inside the batch's transaction and says what to do with the delivery:
/// kAck once applied (or found to be a duplicate), kReject for poison (dead-lettered).
using EventHandler = std::function<amqp::Outcome(pg::Connection&, const amqp::Delivery&)>;

/// A queue consumer that applies each batch of deliveries in ONE database transaction and acks
/// only after it committed. A batch is first applied as it is; if an event fails in SQL, the batch
/// is rolled back and applied again with a savepoint per event, so that event is dead-lettered
/// alone instead of sinking the batch (savepoints on every event would double the round trips). While the database is
/// unreachable the batch is held and retried (up to kHoldFor), since every requeue counts against the quorum queue's
/// delivery limit; past that it is requeued.
class TransactionalConsumer {
   public:
    TransactionalConsumer(std::string dsn, amqp::ConnectionOptions broker, amqp::ConsumerOptions options,
                          EventHandler handler, metrics::Registry& metrics);
    ~TransactionalConsumer();
    TransactionalConsumer(const TransactionalConsumer&) = delete;
    TransactionalConsumer& operator=(const TransactionalConsumer&) = delete;

    void Stop() noexcept;
    [[nodiscard]] bool Consuming() const noexcept;

    static constexpr std::chrono::seconds kHoldFor{30};

   private:
    std::vector<amqp::Outcome> ApplyBatch(std::span<const amqp::Delivery> batch);
    std::vector<amqp::Outcome> ApplyOnce(std::span<const amqp::Delivery> batch, bool isolate_events);

    std::string dsn_;
    EventHandler handler_;
    metrics::Counter& consumed_;
    metrics::Counter& dead_lettered_;
    std::unique_ptr<pg::Connection> conn_;  // only touched on the consumer's thread
    std::atomic<bool> stopping_{false};
    std::unique_ptr<amqp::Consumer> consumer_;
};

/// The inbox: the events this service has applied, and what came of each.
namespace inbox {
/// Claims the event id in the current transaction, recording the outcome expected of it. Returns
/// nullopt the first time; for an event seen before, the outcome recorded for it. A concurrent
/// claim of the same id waits for the first transaction and then sees it as seen.
[[nodiscard]] std::optional<std::string> Claim(pg::Connection& conn, const std::string& event_id,
                                               std::string_view expected_outcome);
/// Records the outcome of a claimed event when it is not the one expected at the claim.
void Record(pg::Connection& conn, const std::string& event_id, std::string_view outcome);
}  // namespace inbox

}  // namespace sn::saga
