#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "amqp/connection_options.hpp"
#include "amqp/error.hpp"
#include "amqp/message.hpp"
#include "amqp/topology.hpp"

namespace sn::amqp {

namespace detail {
class Connection;
}

/// Returns one Outcome per delivery, in order. Throwing requeues the whole batch.
using BatchHandler = std::function<std::vector<Outcome>(std::span<const Delivery>)>;

struct ConsumerOptions {
    std::string queue{};
    std::uint16_t prefetch = 256;
    std::size_t max_batch = 256;
    /// A batch stops growing once its bodies reach this many bytes (so it holds at most this
    /// plus one body): large events (a read of 1,000 messages is ~39 KB) come fewer at a time.
    std::size_t max_batch_bytes = std::size_t{1} << 20;
    /// After the first delivery of a batch, how long to wait for more before calling the handler.
    std::chrono::milliseconds batch_linger{2};
    /// Declared on every (re)connect before consuming.
    Topology topology{};
};

/// Monotonic counts for metrics.
struct ConsumerCounters {
    std::atomic<std::uint64_t> consumed{0};
    std::atomic<std::uint64_t> acked{0};
    std::atomic<std::uint64_t> rejected{0};
    std::atomic<std::uint64_t> requeued{0};    ///< kRequeue outcomes plus batches nacked after a throw
    std::atomic<std::uint64_t> reconnects{0};  ///< consuming resumed after a failure
};

/// Consumes one queue with manual acks on its own thread and connection, handing batches to the
/// handler on that thread. At-least-once: a batch whose acks did not reach the broker is
/// redelivered. Reconnects with backoff forever, until Stop().
class Consumer {
   public:
    Consumer(ConnectionOptions connection, ConsumerOptions options, BatchHandler handler);
    ~Consumer();
    Consumer(const Consumer&) = delete;
    Consumer& operator=(const Consumer&) = delete;

    /// Finishes the batch in hand, closes the connection and joins the thread. Idempotent.
    void Stop() noexcept;

    [[nodiscard]] const ConsumerCounters& Counters() const noexcept { return counters_; }
    /// True while basic.consume is active on a live connection.
    [[nodiscard]] bool Consuming() const noexcept { return consuming_.load(); }

   private:
    void Run() noexcept;
    void ConsumeLoop(detail::Connection& connection);
    /// The next delivery, or nothing when none came within `timeout` (or a stray frame came).
    [[nodiscard]] std::optional<Delivery> Receive(detail::Connection& connection, std::chrono::milliseconds timeout);
    void Settle(detail::Connection& connection, std::span<const Delivery> batch, std::span<const Outcome> outcomes);
    /// Sleeps, waking early on Stop().
    void Pause(std::chrono::milliseconds duration);

    const ConnectionOptions connection_options_;
    const ConsumerOptions options_;
    const BatchHandler handler_;
    ConsumerCounters counters_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> consuming_{false};
    std::mutex mutex_;       ///< for the Pause wait
    std::mutex join_mutex_;  ///< Stop() may race with itself (a signal thread and the destructor)
    std::condition_variable wake_;
    std::thread thread_;  ///< last: starts once everything above exists
};

}  // namespace sn::amqp
