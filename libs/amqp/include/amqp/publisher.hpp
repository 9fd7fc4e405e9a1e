#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "amqp/connection_options.hpp"
#include "amqp/error.hpp"
#include "amqp/message.hpp"
#include "amqp/topology.hpp"

namespace sn::amqp {

namespace detail {
class Connection;
}

/// Publishes batches with publisher confirms on its own connection. Not thread-safe: one thread
/// at a time. Connects lazily and reconnects on the next call after any failure.
class Publisher {
   public:
    explicit Publisher(ConnectionOptions options, Topology topology = {});
    ~Publisher();
    Publisher(const Publisher&) = delete;
    Publisher& operator=(const Publisher&) = delete;

    /// Publishes all messages, then waits until the broker settled each one or `timeout` passed.
    /// Element i is true only when message i was acked and not returned as unroutable; false
    /// when it was nacked or, being mandatory, had no queue to go to. Throws AmqpError on a connection or channel
    /// failure or on timeout (the outcome of every message is then unknown: publish them again;
    /// consumers deduplicate on message_id).
    [[nodiscard]] std::vector<bool> PublishBatch(std::span<const OutgoingMessage> messages,
                                                 std::chrono::milliseconds timeout);

    /// Adds to the topology declared after every (re)connect and declares it now.
    /// Throws AmqpError when the broker refuses it.
    void Declare(const Topology& topology);

   private:
    detail::Connection& Connected();
    void Drop() noexcept;

    ConnectionOptions options_;
    Topology topology_;
    std::unique_ptr<detail::Connection> connection_;
    std::uint64_t next_tag_ = 1;  ///< confirm delivery tags count from 1 per channel
};

}  // namespace sn::amqp
