#include "saga/consumer.hpp"

#include <algorithm>
#include <numeric>
#include <thread>

#include "common/log.hpp"

namespace sn::saga {
namespace {

constexpr std::string_view kClaim =
    "INSERT INTO inbox (event_id, outcome) SELECT DISTINCT unnest($1::uuid[]), $2 "
    "ON CONFLICT DO NOTHING RETURNING event_id";
constexpr std::string_view kOutcomes =
    "SELECT event_id, outcome FROM inbox WHERE event_id = ANY($1::uuid[]) AND NOT event_id = ANY($2::uuid[])";
constexpr std::string_view kRecord = "UPDATE inbox SET outcome = $2 WHERE event_id = $1";
constexpr std::string_view kPrune =
    "DELETE FROM inbox WHERE event_id IN (SELECT event_id FROM inbox "
    "WHERE received_at < now() - make_interval(secs => $1) LIMIT $2)";
// Rows a prune deletes per statement, and statements per run: a run stays short, and a large
// backlog (a service that was down for long) goes over several runs.
constexpr std::int64_t kPruneRows = 10'000;
constexpr int kPruneStatementsPerRun = 100;

}  // namespace

namespace detail {

void LogMalformed(const amqp::Delivery& delivery) {
    log::Warn("malformed event dead-lettered", {{"routing_key", delivery.routing_key},
                                                {"message_id", delivery.message_id},
                                                {"request_id", delivery.request_id}});
}

}  // namespace detail

namespace inbox {

std::unordered_map<std::string, std::string> Claim(pg::Connection& conn, const std::vector<std::string>& event_ids,
                                                   std::string_view expected_outcome) {
    std::unordered_map<std::string, std::string> seen;
    if (event_ids.empty()) {
        return seen;
    }
    const auto claimed = conn.Exec(kClaim, event_ids, expected_outcome);
    std::vector<std::string> fresh;
    fresh.reserve(static_cast<std::size_t>(claimed.Rows()));
    for (int i = 0; i < claimed.Rows(); ++i) {
        fresh.push_back(claimed.String(i, 0));
    }
    if (fresh.size() == event_ids.size()) {
        return seen;  // all new (and no repeats): the common case, one statement
    }
    const auto rows = conn.Exec(kOutcomes, event_ids, fresh);
    for (int i = 0; i < rows.Rows(); ++i) {
        seen.emplace(rows.String(i, 0), rows.String(i, 1));
    }
    return seen;
}

void Record(pg::Connection& conn, const std::string& event_id, std::string_view outcome) {
    (void)conn.Exec(kRecord, event_id, outcome);
}

std::int64_t Prune(pg::Connection& conn, std::chrono::seconds retention, std::int64_t max_rows) {
    return conn.Exec(kPrune, static_cast<std::int64_t>(retention.count()), max_rows).Affected();
}

pg::PeriodicJob::Job MakePruner(Retention retention, metrics::Registry& metrics) {
    auto& pruned = metrics.GetCounter("saga_inbox_pruned_total", "Inbox entries forgotten past their retention.");
    return [keep = std::chrono::duration_cast<std::chrono::seconds>(retention.keep), &pruned](pg::Connection& conn) {
        for (int i = 0; i < kPruneStatementsPerRun; ++i) {
            const auto forgotten = Prune(conn, keep, kPruneRows);
            pruned.Add(static_cast<std::uint64_t>(forgotten));
            if (forgotten < kPruneRows) {
                break;
            }
        }
    };
}

}  // namespace inbox

TransactionalConsumer::TransactionalConsumer(std::string dsn, amqp::ConnectionOptions broker,
                                             amqp::ConsumerOptions options, BatchHandler handler,
                                             metrics::Registry& metrics)
    : dsn_(std::move(dsn)),
      handler_(std::move(handler)),
      consumed_(
          metrics.GetCounter("saga_events_consumed_total", "Events applied and acked.", {{"queue", options.queue}})),
      dead_lettered_(metrics.GetCounter("saga_events_dead_lettered_total", "Poison events sent to the DLQ.",
                                        {{"queue", options.queue}})) {
    consumer_ =
        std::make_unique<amqp::Consumer>(std::move(broker), std::move(options),
                                         [this](std::span<const amqp::Delivery> batch) { return ApplyBatch(batch); });
}

TransactionalConsumer::~TransactionalConsumer() { Stop(); }

void TransactionalConsumer::Stop() noexcept {
    stopping_ = true;
    if (consumer_) {
        consumer_->Stop();
    }
}

bool TransactionalConsumer::Consuming() const noexcept { return consumer_ && consumer_->Consuming(); }

std::vector<amqp::Outcome> TransactionalConsumer::ApplyBatch(std::span<const amqp::Delivery> batch) {
    const auto give_up = std::chrono::steady_clock::now() + kHoldFor;
    auto backoff = std::chrono::milliseconds(100);
    for (;;) {
        try {
            try {
                return ApplyOnce(batch, false);
            } catch (const pg::QueryError& e) {
                if (e.IsRetryable()) {
                    throw;
                }
                // Some event fails in SQL: find it, one savepoint per event.
                return ApplyOnce(batch, true);
            }
        } catch (const UnavailableError& e) {
            if (stopping_ || std::chrono::steady_clock::now() + backoff > give_up) {
                throw;
            }
            log::Warn("database unavailable; holding the batch", {{"error", e.what()}, {"events", batch.size()}});
            std::this_thread::sleep_for(backoff);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        }
    }
}

std::vector<amqp::Outcome> TransactionalConsumer::ApplyOnce(std::span<const amqp::Delivery> batch,
                                                            bool isolate_events) {
    if (!conn_ || !conn_->Healthy()) {
        conn_ = std::make_unique<pg::Connection>(dsn_, std::chrono::milliseconds(10'000));
    }
    // Apply in routing-key order so that copies of this service working on overlapping batches
    // lock the same rows in the same order and cannot deadlock.
    std::vector<std::size_t> order(batch.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return batch[a].routing_key < batch[b].routing_key; });
    std::vector<amqp::Delivery> sorted;
    sorted.reserve(batch.size());
    for (const auto i : order) {
        sorted.push_back(batch[i]);
    }
    std::vector<amqp::Outcome> outcomes(batch.size(), amqp::Outcome::kAck);
    pg::Transaction tx(*conn_);
    if (!isolate_events) {
        const auto applied = handler_(*conn_, sorted);
        for (std::size_t k = 0; k < order.size(); ++k) {
            outcomes[order[k]] = applied.at(k);
        }
        tx.Commit();
        CountOutcomes(outcomes);
        return outcomes;
    }
    for (std::size_t k = 0; k < order.size(); ++k) {
        const auto& delivery = sorted[k];
        conn_->Simple("SAVEPOINT event");
        try {
            outcomes[order[k]] = handler_(*conn_, std::span(&delivery, 1)).at(0);
            conn_->Simple("RELEASE SAVEPOINT event");
        } catch (const pg::QueryError& e) {
            if (e.IsRetryable()) {
                throw;  // a conflict, not a bad event: the whole batch is requeued and tried again
            }
            conn_->Simple("ROLLBACK TO SAVEPOINT event");
            log::Error("event failed to apply; dead-lettering it",
                       {{"message_id", delivery.message_id}, {"request_id", delivery.request_id}, {"error", e.what()}});
            outcomes[order[k]] = amqp::Outcome::kReject;
        }
    }
    tx.Commit();
    CountOutcomes(outcomes);
    return outcomes;
}

void TransactionalConsumer::CountOutcomes(std::span<const amqp::Outcome> outcomes) {
    for (const auto outcome : outcomes) {
        (outcome == amqp::Outcome::kReject ? dead_lettered_ : consumed_).Add();
    }
}

}  // namespace sn::saga
