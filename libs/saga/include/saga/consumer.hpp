#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "amqp/consumer.hpp"
#include "common/metrics.hpp"
#include "pg/connection.hpp"
#include "pg/periodic_job.hpp"

namespace sn::saga {

/// Applies a batch of events inside its transaction (set-based SQL: a statement per batch rather
/// than per event) and says what to do with each delivery, in order: kAck once applied (or found
/// to be a duplicate), kReject for poison (dead-lettered).
using BatchHandler = std::function<std::vector<amqp::Outcome>(pg::Connection&, std::span<const amqp::Delivery>)>;

/// An event parsed from a delivery, and the delivery it came in (for its ids).
template <typename Event>
struct Received {
    Event event;
    const amqp::Delivery* delivery = nullptr;
};

namespace detail {
void LogMalformed(const amqp::Delivery& delivery);
}  // namespace detail

/// Parses every delivery of a batch with `parse`. One it cannot parse is poison: its outcome
/// becomes kReject (dead-lettered) and it is logged. Returns the others, in order.
template <typename Event>
std::vector<Received<Event>> ParseBatch(std::span<const amqp::Delivery> batch,
                                        std::optional<Event> (*parse)(std::string_view),
                                        std::vector<amqp::Outcome>& outcomes) {
    std::vector<Received<Event>> parsed;
    parsed.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (auto event = parse(batch[i].body)) {
            parsed.push_back({std::move(*event), &batch[i]});
        } else {
            detail::LogMalformed(batch[i]);
            outcomes.at(i) = amqp::Outcome::kReject;
        }
    }
    return parsed;
}

/// A queue consumer that applies each batch of deliveries in ONE database transaction and acks
/// only after it committed. Deliveries reach the handler sorted by routing key, so that copies of
/// a service lock rows in the same order. A batch is first applied as it is; if an event fails in
/// SQL, the batch is rolled back and applied again one event at a time, each under a savepoint,
/// so that event is dead-lettered alone instead of sinking the batch (savepoints on every event
/// would double the round trips). While the database is unreachable the batch is held and retried
/// (up to kHoldFor), since every requeue counts against the quorum queue's delivery limit; past
/// that it is requeued.
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

/// How long the inbox remembers an applied event. A copy of an event that arrives after its id was
/// forgotten is applied again, so the retention must outlast any delay the saga should ride out:
/// dialogs' sweeper re-publishes a stuck saga's event, with its id, for as long as it is stuck.
struct Retention {
    std::chrono::hours keep{24 * 7};
    /// How often the pruner deletes what is older.
    std::chrono::milliseconds prune_interval{std::chrono::minutes(10)};
};

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
/// Forgets at most `max_rows` of the events received more than `retention` ago, in one statement
/// (in a transaction of its own unless one is open). Returns how many it forgot.
std::int64_t Prune(pg::Connection& conn, std::chrono::seconds retention, std::int64_t max_rows);
/// A pruner run for a pg::PeriodicJob every `retention.prune_interval`: Prune in statements of
/// 10,000 rows until none is left past `retention.keep` (at most a million a run). Counts them in
/// saga_inbox_pruned_total.
[[nodiscard]] pg::PeriodicJob::Job MakePruner(Retention retention, metrics::Registry& metrics);
}  // namespace inbox

}  // namespace sn::saga
