#include "saga/outbox.hpp"

#include <condition_variable>
#include <mutex>
#include <vector>

#include "amqp/publisher.hpp"
#include "common/log.hpp"

namespace sn::saga {
namespace {

// Six arrays, one per column (OutboxParams), so that one statement stores any number of events.
constexpr std::string_view kInsert =
    "INSERT INTO outbox (event_id, exchange, routing_key, correlation_id, request_id, payload) "
    "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) "
    "ON CONFLICT (event_id) DO NOTHING";
// The oldest $1 rows nobody else holds, locked; of them, the ones that start before $2 bytes of
// payload (so the first always), with how many were locked. (FOR UPDATE cannot share a level with
// a window function, hence the nesting.)
constexpr std::string_view kClaim =
    "SELECT id, event_id, exchange, routing_key, correlation_id, request_id, payload, locked FROM ("
    "    SELECT *, sum(octet_length(payload)) OVER (ORDER BY id) - octet_length(payload) AS starts_at, "
    "           count(*) OVER () AS locked FROM ("
    "        SELECT id, event_id, exchange, routing_key, correlation_id, request_id, payload FROM outbox "
    "        ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) oldest) sized "
    "WHERE starts_at < $2 ORDER BY id";
constexpr std::string_view kDelete = "DELETE FROM outbox WHERE id = ANY($1::bigint[])";
constexpr std::string_view kBacklog = "SELECT count(*) FROM outbox";

/// What the relays of this process sleep on. (A NOTIFY from the database would also reach other
/// processes, but it serialises every committing transaction on one lock: measured, 2,900 vs
/// 10,600 sends/s at 16 clients. Other processes' rows are found by polling instead.)
struct RelaySignal {
    std::mutex mutex;
    std::condition_variable cv;
    std::uint64_t generation = 0;
};

RelaySignal& Signal() {
    static RelaySignal signal;
    return signal;
}

}  // namespace

void Enqueue(pg::Connection& conn, const OutboxEvent& event) { EnqueueAll(conn, std::span(&event, 1)); }

void EnqueueAll(pg::Connection& conn, std::span<const OutboxEvent> events) {
    if (events.empty()) {
        return;
    }
    (void)conn.ExecParams(kInsert, OutboxParams(events));
    conn.AfterCommit(&WakeRelays);
}

std::vector<pg::Param> OutboxParams(std::span<const OutboxEvent> events) {
    std::vector<std::vector<std::string>> columns(6);
    for (auto& column : columns) {
        column.reserve(events.size());
    }
    for (const auto& event : events) {
        columns[0].push_back(event.event_id);
        columns[1].push_back(event.exchange);
        columns[2].push_back(event.routing_key);
        columns[3].push_back(event.correlation_id);
        columns[4].push_back(event.request_id);
        columns[5].push_back(event.payload);
    }
    std::vector<pg::Param> params;
    params.reserve(columns.size());
    for (const auto& column : columns) {
        params.push_back(pg::ToParam(column));
    }
    return params;
}

void PrepareRelayConnection(pg::Connection& conn) {
    // The outbox is a queue: rows come and go, and under load its heap grows to thousands of
    // pages of dead rows that vacuum cannot give back while inserts go on. The planner, seeing few
    // live rows, then read all of it for every claim (75 MB, 13.7 ms, after a minute at 4,700
    // sends/s) instead of the key's oldest entries (1.2 ms). The connection is the relay's alone.
    conn.Simple("SET enable_seqscan = off");
}

Claimed Claim(pg::Connection& conn, std::size_t max_rows, std::size_t max_bytes) {
    Claimed claimed{conn.Exec(kClaim, static_cast<std::int64_t>(max_rows), static_cast<std::int64_t>(max_bytes)),
                    false};
    const auto rows = claimed.rows.Rows();
    // Left waiting: rows cut for their size, or as many locked as asked for (more may follow).
    claimed.more = rows > 0 && (claimed.rows.Int(0, 7) > rows || static_cast<std::size_t>(rows) == max_rows);
    return claimed;
}

void WakeRelays() noexcept {
    auto& signal = Signal();
    {
        const std::lock_guard lock(signal.mutex);
        ++signal.generation;
    }
    signal.cv.notify_all();
}

std::string WithOutboxRow(std::string_view change) {
    std::string sql;
    sql.reserve(kInsert.size() + change.size() + 32);
    sql.append("WITH outbox_row AS (").append(kInsert).append(") ").append(change);
    return sql;
}

OutboxRelay::OutboxRelay(std::string dsn, amqp::ConnectionOptions broker, amqp::Topology topology, RelayOptions options,
                         metrics::Registry& metrics)
    : dsn_(std::move(dsn)),
      broker_(std::move(broker)),
      topology_(std::move(topology)),
      options_(options),
      published_(metrics.GetCounter("saga_events_published_total", "Outbox events confirmed by the broker.")),
      failures_(metrics.GetCounter("saga_outbox_failures_total", "Relay cycles that failed and were retried.")),
      backlog_(metrics.GetGauge("saga_outbox_backlog", "Events waiting in the outbox.")),
      thread_([this] { Run(); }) {}

OutboxRelay::~OutboxRelay() { Stop(); }

void OutboxRelay::Stop() noexcept {
    stop_ = true;
    WakeRelays();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void OutboxRelay::Run() noexcept {
    std::unique_ptr<pg::Connection> conn;
    amqp::Publisher publisher(broker_, topology_);
    auto backoff = std::chrono::milliseconds(100);
    auto last_backlog = std::chrono::steady_clock::time_point{};
    auto& signal = Signal();
    // Sleeps for the timeout, or until new events when `for_events` (a wake during the cycle
    // just ended is not missed: it changed the generation), or until Stop().
    std::uint64_t seen = 0;
    const auto sleep = [&](std::chrono::milliseconds timeout, bool for_events) {
        std::unique_lock lock(signal.mutex);
        signal.cv.wait_for(lock, timeout, [&] { return (for_events && signal.generation != seen) || stop_; });
        seen = signal.generation;
    };
    while (!stop_) {
        try {
            if (!conn || !conn->Healthy()) {
                conn = std::make_unique<pg::Connection>(dsn_, std::chrono::milliseconds(30'000));
                PrepareRelayConnection(*conn);
            }
            std::size_t claimed = 0;
            std::size_t confirmed_count = 0;
            bool more = false;
            {
                pg::Transaction tx(*conn);
                auto batch = Claim(*conn, options_.batch, options_.batch_bytes);
                const auto& rows = batch.rows;
                claimed = static_cast<std::size_t>(rows.Rows());
                more = batch.more;
                if (claimed > 0) {
                    std::vector<amqp::OutgoingMessage> messages;
                    messages.reserve(claimed);
                    for (int i = 0; i < rows.Rows(); ++i) {
                        messages.push_back({rows.String(i, 2), rows.String(i, 3), rows.String(i, 1), rows.String(i, 4),
                                            rows.String(i, 5), rows.String(i, 6)});
                    }
                    const auto confirmed = publisher.PublishBatch(messages, options_.confirm_timeout);
                    std::vector<std::string> done;
                    for (int i = 0; i < rows.Rows(); ++i) {
                        if (confirmed[static_cast<std::size_t>(i)]) {
                            done.push_back(rows.String(i, 0));
                        }
                    }
                    (void)conn->Exec(kDelete, done);
                    confirmed_count = done.size();
                    published_.Add(done.size());
                    if (done.size() < claimed) {
                        log::Warn("broker did not confirm some events; they stay in the outbox",
                                  {{"unconfirmed", claimed - done.size()}});
                    }
                }
                tx.Commit();
            }
            backoff = std::chrono::milliseconds(100);
            const auto now = std::chrono::steady_clock::now();
            if (now - last_backlog > std::chrono::seconds(1)) {
                backlog_.Set(static_cast<double>(conn->Exec(kBacklog).Int(0, 0)));
                last_backlog = now;
            }
            // Rows left waiting are taken at once; anything unconfirmed waits for the next round.
            if (!more || confirmed_count < claimed) {
                sleep(options_.poll_interval, true);
            }
        } catch (const std::exception& e) {
            failures_.Add();
            log::Warn("outbox relay cycle failed; retrying", {{"error", e.what()}, {"backoff_ms", backoff.count()}});
            sleep(backoff, false);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        }
    }
}

}  // namespace sn::saga
