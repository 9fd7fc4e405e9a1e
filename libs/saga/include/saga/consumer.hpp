#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "amqp/consumer.hpp"
#include "common/metrics.hpp"
#include "pg/connection.hpp"

namespace sn::saga {

/// Applies a batch of events inside its transaction (set-based SQL: a statement per batch rather
/// than per event) and says what to do with each delivery, in order: kAck once applied (or found
/// to be a duplicate), kReject for poison (dead-lettered).
using BatchHandler = std::function<std::vector<amqp::Outcome>(pg::Connection&, std::span<const amqp::Delivery>)>;

/// A queue consumer that applies each batch of deliveries in ONE database transaction and acks
/// only after it committed. Deliveries reach the handler sorted by routing key, so that copies of
/// a service lock rows in the same order. A batch is first applied as it is; if an event fails in
/// SQL, the batch is rolled back and applied again one event at a time, each under a savepoint, so that event is
/// dead-lettered alone instead of sinking the batch (savepoints on every event would double the round trips). While the
/// database is unreachable the batch is held and retried (up to kHoldFor), since every requeue counts against the
/// quorum queue's delivery limit; past that it is requeued.
class TransactionalConsumer {
   public:
    TransactionalConsumer(std::string dsn, amqp::ConnectionOptions broker, amqp::ConsumerOptions options,
                          BatchHandler handler, metrics::Registry& metrics);
    ~TransactionalConsumer();
    TransactionalConsumer(const TransactionalConsumer&) = delete;
    TransactionalConsumer& operator=(const TransactionalConsumer&) = delete;

    void Stop() noexcept;
    [[nodiscard]] bool Consuming() const noexcept;

    static constexpr std::chrono::seconds kHoldFor{30};

   private:
    std::vector<amqp::Outcome> ApplyBatch(std::span<const amqp::Delivery> batch);
    std::vector<amqp::Outcome> ApplyOnce(std::span<const amqp::Delivery> batch, bool isolate_events);
    void CountOutcomes(std::span<const amqp::Outcome> outcomes);

    std::string dsn_;
    BatchHandler handler_;
    metrics::Counter& consumed_;
    metrics::Counter& dead_lettered_;
    std::unique_ptr<pg::Connection> conn_;  // only touched on the consumer's thread
    std::atomic<bool> stopping_{false};
    std::unique_ptr<amqp::Consumer> consumer_;
};

/// The inbox: the events this service has applied, and what came of each.
namespace inbox {
/// Claims the event ids in the current transaction, recording the outcome expected of them, with
/// one statement. Returns the ids seen before (by an earlier transaction) with the outcome
/// recorded for each; an id absent from the result is new (if it is repeated within
/// `event_ids`, only its first occurrence is). A concurrent claim of the same id waits for the
/// first transaction and then sees it as seen. Ids are canonical (lower-case) UUIDs.
[[nodiscard]] std::unordered_map<std::string, std::string> Claim(pg::Connection& conn,
                                                                 const std::vector<std::string>& event_ids,
                                                                 std::string_view expected_outcome);
/// Records the outcome of a claimed event when it is not the one expected at the claim.
void Record(pg::Connection& conn, const std::string& event_id, std::string_view outcome);
}  // namespace inbox

}  // namespace sn::saga
