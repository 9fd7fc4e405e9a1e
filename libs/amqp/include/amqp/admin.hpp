#pragma once

#include <cstdint>
#include <string_view>

#include "amqp/connection_options.hpp"
#include "amqp/topology.hpp"

/// One-shot broker operations on a short-lived connection: for tools, tests and health checks.
namespace sn::amqp {

/// Declares the topology now; throws AmqpError with the broker's reply on a conflict.
void DeclareTopology(const ConnectionOptions& options, const Topology& topology);

/// Deletes the topology's queues (messages included) and exchanges; missing ones are fine.
void DeleteTopology(const ConnectionOptions& options, const Topology& topology);

/// Ready messages in a queue (not counting unacknowledged ones); throws AmqpError if it is missing.
[[nodiscard]] std::uint32_t CountMessages(const ConnectionOptions& options, std::string_view queue);

}  // namespace sn::amqp
