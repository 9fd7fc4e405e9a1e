#pragma once

#include <cstdint>
#include <string>

namespace sn::amqp {

/// One event to publish: persistent, content type application/json, mandatory.
struct OutgoingMessage {
    std::string exchange{};
    std::string routing_key{};
    std::string message_id{};      ///< the event id: consumers deduplicate on it
    std::string correlation_id{};  ///< the saga id
    std::string request_id{};      ///< carried as header x-request-id when non-empty
    std::string body{};
    /// true: a message no queue takes comes back (basic.return) and counts as not delivered, with a
    /// warning. false: it is dropped quietly, for hints most of which nobody listens for (the live
    /// feed of a follower who is offline).
    bool mandatory = true;
};

/// One received message; the strings are copies, valid after the batch is settled.
struct Delivery {
    std::uint64_t delivery_tag = 0;
    std::string exchange{};
    std::string routing_key{};
    std::string message_id{};
    std::string correlation_id{};
    std::string request_id{};
    std::string content_type{};
    std::string body{};
    bool redelivered = false;
};

/// What the consumer does with a delivery once the handler returns.
enum class Outcome {
    kAck,
    kReject,   ///< basic.reject requeue=false: dead-lettered when the queue has a DLX, else dropped
    kRequeue,  ///< back to the queue; on a quorum queue this counts towards the delivery limit
};

}  // namespace sn::amqp
