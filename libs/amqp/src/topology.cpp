#include "amqp/topology.hpp"

#include <algorithm>
#include <stdexcept>

namespace sn::amqp {

std::string DeadLetterExchangeName(std::string_view queue) { return std::string(queue) + ".dlx"; }

std::string DeadLetterQueueName(std::string_view queue) { return std::string(queue) + ".dead"; }

Topology WithDeadLetter(Topology topology, std::string_view queue, std::int64_t delivery_limit) {
    const auto work = std::find_if(topology.queues.begin(), topology.queues.end(),
                                   [&](const QueueSpec& spec) { return spec.name == queue; });
    if (work == topology.queues.end()) {
        throw std::invalid_argument("WithDeadLetter: queue " + std::string(queue) + " is not in the topology");
    }
    const std::string exchange = DeadLetterExchangeName(queue);
    const std::string dead = DeadLetterQueueName(queue);
    work->dead_letter_exchange = exchange;
    work->delivery_limit = delivery_limit;
    // Fanout: a dead message keeps its original routing key, which would not match a topic binding.
    topology.exchanges.push_back(ExchangeSpec{.name = exchange, .type = "fanout", .durable = true});
    // Parked messages are kept as safely as live ones: a quorum work queue gets a quorum DLQ.
    topology.queues.push_back(QueueSpec{.name = dead, .durable = true, .quorum = work->quorum});
    topology.bindings.push_back(BindingSpec{.queue = dead, .exchange = exchange, .routing_key = ""});
    return topology;
}

Topology Merge(Topology topology, const Topology& more) {
    topology.exchanges.insert(topology.exchanges.end(), more.exchanges.begin(), more.exchanges.end());
    topology.queues.insert(topology.queues.end(), more.queues.begin(), more.queues.end());
    topology.bindings.insert(topology.bindings.end(), more.bindings.begin(), more.bindings.end());
    return topology;
}

}  // namespace sn::amqp
