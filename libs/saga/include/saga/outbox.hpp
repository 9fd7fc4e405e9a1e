#pragma once

#include <atomic>
#include <chrono>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "amqp/connection_options.hpp"
#include "amqp/topology.hpp"
#include "common/metrics.hpp"
#include "pg/connection.hpp"

namespace sn::saga {

/// One event to publish, stored in the caller's transaction.
struct OutboxEvent {
    std::string event_id;
    std::string exchange;
    std::string routing_key;
    std::string correlation_id;
    std::string request_id;
    std::string payload;
};

/// Adds the event to the outbox in the current transaction; an event id already waiting there is
/// left as it is (so re-publishing a stuck saga twice queues it once). The relays of this process
/// are woken when the transaction commits.
void Enqueue(pg::Connection& conn, const OutboxEvent& event);
/// The same for several events, with one statement.
void EnqueueAll(pg::Connection& conn, std::span<const OutboxEvent> events);

/// Wakes every OutboxRelay of this process. Enqueue and EnqueueWith arrange it after the commit.
void WakeRelays() noexcept;

/// `WITH outbox_row AS (<the outbox INSERT of $1..$6>) <change>`: see EnqueueWith.
[[nodiscard]] std::string WithOutboxRow(std::string_view change);
/// The outbox INSERT's six parameters: one array per column.
[[nodiscard]] std::vector<pg::Param> OutboxParams(std::span<const OutboxEvent> events);

/// Runs `change` (a statement whose own parameters start at $7) and adds the events to the outbox
/// in ONE statement. A statement is atomic on its own, so this needs no transaction around it:
/// one round trip to the database instead of four (BEGIN, change, events, COMMIT).
template <typename... Args>
pg::Result EnqueueWith(pg::Connection& conn, std::span<const OutboxEvent> events, std::string_view change,
                       Args&&... args) {
    auto params = OutboxParams(events);
    (params.push_back(pg::ToParam(std::forward<Args>(args))), ...);
    auto result = conn.ExecParams(WithOutboxRow(change), params);
    conn.AfterCommit(&WakeRelays);
    return result;
}

/// Outbox rows claimed by a relay: columns id, event_id, exchange, routing_key, correlation_id,
/// request_id, payload (and a count used by Claim).
struct Claimed {
    pg::Result rows;
    bool more = false;  // rows were left waiting
};

/// Makes `conn` claim through the outbox's key however bloated the table is (a relay's own
/// connection: it changes the planner's settings for the session).
void PrepareRelayConnection(pg::Connection& conn);

/// Locks up to `max_rows` of the oldest outbox rows that no other relay holds, for the current
/// transaction, and returns them oldest first, cut after the row whose payload reaches
/// `max_bytes` in total (the first row always comes). Run on a connection prepared by
/// PrepareRelayConnection.
[[nodiscard]] Claimed Claim(pg::Connection& conn, std::size_t max_rows, std::size_t max_bytes);

struct RelayOptions {
    std::size_t batch = 500;
    // Payload bytes per batch: a read of a thousand messages is one event of ~39 KB, and 500 of
    // them held twice (libpq's result, the messages to publish) took dialogs near its memory budget.
    std::size_t batch_bytes = 2 * 1024 * 1024;
    // For events other processes wrote (a copy whose relay is down); this process's own writes
    // wake the relay at once.
    std::chrono::milliseconds poll_interval{500};
    std::chrono::milliseconds confirm_timeout{5000};
};

/// Publishes the outbox on its own thread: wakes when this process commits events (or polls),
/// takes a batch of rows with FOR UPDATE SKIP LOCKED (so any number of relays can run), publishes
/// them with publisher confirms, and deletes in the same transaction only the rows the broker
/// confirmed. A crash anywhere leaves unconfirmed rows in place; consumers deduplicate what is
/// published twice.
class OutboxRelay {
   public:
    OutboxRelay(std::string dsn, amqp::ConnectionOptions broker, amqp::Topology topology, RelayOptions options,
                metrics::Registry& metrics);
    ~OutboxRelay();
    OutboxRelay(const OutboxRelay&) = delete;
    OutboxRelay& operator=(const OutboxRelay&) = delete;

    /// Finishes the batch in hand and joins the thread. Idempotent.
    void Stop() noexcept;

   private:
    void Run() noexcept;

    std::string dsn_;
    amqp::ConnectionOptions broker_;
    amqp::Topology topology_;
    RelayOptions options_;
    metrics::Counter& published_;
    metrics::Counter& failures_;
    metrics::Gauge& backlog_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace sn::saga
