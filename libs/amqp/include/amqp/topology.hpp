#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sn::amqp {

// Every member has an initializer so that designated initializers may leave any of them out
// without GCC 12's -Wmissing-field-initializers (an error here).

struct ExchangeSpec {
    std::string name{};
    std::string type = "topic";  ///< "topic", "fanout", "direct"
    bool durable = true;
};

struct QueueSpec {
    std::string name{};
    bool durable = true;
    bool quorum = false;  ///< x-queue-type=quorum (replicated; needs durable)
    std::optional<std::string> dead_letter_exchange{};
    std::optional<std::int64_t> delivery_limit{};  ///< quorum queues only; ignored for classic ones
};

struct BindingSpec {
    std::string queue{};
    std::string exchange{};
    std::string routing_key{};  ///< pattern for topic exchanges; ignored by fanout
};

/// Exchanges, queues and bindings declared idempotently after every (re)connect, in that order.
struct Topology {
    std::vector<ExchangeSpec> exchanges{};
    std::vector<QueueSpec> queues{};
    std::vector<BindingSpec> bindings{};
};

inline constexpr std::int64_t kDefaultDeliveryLimit = 5;

[[nodiscard]] std::string DeadLetterExchangeName(std::string_view queue);  ///< "<queue>.dlx"
[[nodiscard]] std::string DeadLetterQueueName(std::string_view queue);     ///< "<queue>.dead"

/// Gives the work queue `queue` (which must be in topology.queues) a dead-letter route: a fanout
/// exchange `<queue>.dlx`, a durable queue `<queue>.dead` bound to it (a quorum queue when the work
/// queue is one, so the parked messages are replicated as the live ones are), and on the work queue
/// x-dead-letter-exchange plus (for quorum queues) x-delivery-limit, so a poison message ends up
/// parked instead of looping. Throws std::invalid_argument when the queue is not in the topology.
[[nodiscard]] Topology WithDeadLetter(Topology topology, std::string_view queue,
                                      std::int64_t delivery_limit = kDefaultDeliveryLimit);

/// Appends `more` to `topology` (exchanges, queues, bindings).
[[nodiscard]] Topology Merge(Topology topology, const Topology& more);

}  // namespace sn::amqp
