#include "amqp/publisher.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "amqp/connection.hpp"
#include "common/log.hpp"

namespace sn::amqp {
namespace {

using Clock = std::chrono::steady_clock;

enum class Confirm : std::uint8_t { kPending, kAcked, kNacked };

void Publish(detail::Connection& connection, const OutgoingMessage& message) {
    amqp_table_entry_t request_id{};
    request_id.key = amqp_cstring_bytes("x-request-id");
    request_id.value.kind = AMQP_FIELD_KIND_UTF8;
    request_id.value.value.bytes = detail::Bytes(message.request_id);

    amqp_basic_properties_t properties{};
    properties._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
    properties.content_type = amqp_cstring_bytes("application/json");
    properties.delivery_mode = 2;  // persistent
    if (!message.message_id.empty()) {
        properties._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
        properties.message_id = detail::Bytes(message.message_id);
    }
    if (!message.correlation_id.empty()) {
        properties._flags |= AMQP_BASIC_CORRELATION_ID_FLAG;
        properties.correlation_id = detail::Bytes(message.correlation_id);
    }
    if (!message.request_id.empty()) {
        properties._flags |= AMQP_BASIC_HEADERS_FLAG;
        properties.headers = amqp_table_t{1, &request_id};
    }
    // mandatory: an unroutable message comes back as basic.return instead of vanishing.
    connection.CheckStatus(amqp_basic_publish(connection.Get(), detail::kChannel, detail::Bytes(message.exchange),
                                              detail::Bytes(message.routing_key), message.mandatory ? 1 : 0,
                                              /*immediate=*/0, &properties, detail::Bytes(message.body)),
                           "basic.publish to " + message.exchange);
}

/// Tracks the broker's verdicts for one batch whose delivery tags start at first_tag.
class Confirms {
   public:
    Confirms(std::span<const OutgoingMessage> messages, std::uint64_t first_tag)
        : messages_(messages),
          first_tag_(first_tag),
          states_(messages.size(), Confirm::kPending),
          returned_(messages.size(), false),
          pending_(messages.size()) {}

    [[nodiscard]] std::size_t Pending() const noexcept { return pending_; }

    void Settle(std::uint64_t tag, bool multiple, Confirm verdict) {
        if (tag < first_tag_) {
            return;  // from an earlier batch; cannot happen as each batch waits for all of its own
        }
        const std::size_t last = std::min<std::size_t>(tag - first_tag_, states_.size() - 1);
        for (std::size_t i = multiple ? 0 : last; i <= last; ++i) {
            if (states_[i] == Confirm::kPending) {
                states_[i] = verdict;
                --pending_;
            }
        }
    }

    /// basic.return names no delivery tag, but the broker sends it before the ack of the same
    /// message, so it is the first unsettled message with the same content.
    [[nodiscard]] bool MarkReturned(std::string_view exchange, std::string_view routing_key,
                                    std::string_view message_id, std::string_view body) {
        for (std::size_t i = 0; i < messages_.size(); ++i) {
            const OutgoingMessage& message = messages_[i];
            if (states_[i] == Confirm::kPending && !returned_[i] && message.exchange == exchange &&
                message.routing_key == routing_key && message.message_id == message_id && message.body == body) {
                returned_[i] = true;
                return true;
            }
        }
        return false;
    }

    [[nodiscard]] std::vector<bool> Results() const {
        std::vector<bool> results(states_.size());
        for (std::size_t i = 0; i < states_.size(); ++i) {
            results[i] = states_[i] == Confirm::kAcked && !returned_[i];
        }
        return results;
    }

   private:
    std::span<const OutgoingMessage> messages_;
    std::uint64_t first_tag_;
    std::vector<Confirm> states_;
    std::vector<bool> returned_;
    std::size_t pending_;
};

/// Reads the content of a basic.return (header and body frames follow it at once) so the frame
/// stream stays in step, and matches it to the batch.
void ReadReturn(detail::Connection& connection, const amqp_frame_t& frame, Confirms& confirms) {
    const auto* returned = static_cast<const amqp_basic_return_t*>(frame.payload.method.decoded);
    const std::string exchange = detail::ToString(returned->exchange);
    const std::string routing_key = detail::ToString(returned->routing_key);
    const std::string reply_text = detail::ToString(returned->reply_text);

    amqp_message_t message{};
    connection.CheckReply(amqp_read_message(connection.Get(), frame.channel, &message, 0), "read basic.return");
    const std::unique_ptr<amqp_message_t, detail::MessageDeleter> owner(&message);
    const std::string message_id = (message.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) != 0
                                       ? detail::ToString(message.properties.message_id)
                                       : std::string{};
    if (!confirms.MarkReturned(exchange, routing_key, message_id, detail::ToString(message.body))) {
        log::Warn("amqp: returned message matches nothing in the batch",
                  {{"exchange", exchange}, {"routing_key", routing_key}, {"message_id", message_id}});
        return;
    }
    log::Warn(
        "amqp: message unroutable",
        {{"exchange", exchange}, {"routing_key", routing_key}, {"message_id", message_id}, {"reply", reply_text}});
}

std::vector<bool> AwaitConfirms(detail::Connection& connection, Confirms& confirms, Clock::time_point deadline) {
    while (confirms.Pending() > 0) {
        const timeval timeout =
            detail::ToTimeval(std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()));
        amqp_frame_t frame{};
        const int status = amqp_simple_wait_frame_noblock(connection.Get(), &frame, &timeout);
        if (status == AMQP_STATUS_TIMEOUT) {
            throw AmqpError("amqp: timed out waiting for publisher confirms (" + std::to_string(confirms.Pending()) +
                            " unconfirmed)");
        }
        connection.CheckStatus(status, "wait for publisher confirms");
        if (frame.frame_type != AMQP_FRAME_METHOD) {
            continue;
        }
        switch (frame.payload.method.id) {
            case AMQP_BASIC_ACK_METHOD: {
                const auto* ack = static_cast<const amqp_basic_ack_t*>(frame.payload.method.decoded);
                confirms.Settle(ack->delivery_tag, ack->multiple != 0, Confirm::kAcked);
                break;
            }
            case AMQP_BASIC_NACK_METHOD: {
                const auto* nack = static_cast<const amqp_basic_nack_t*>(frame.payload.method.decoded);
                confirms.Settle(nack->delivery_tag, nack->multiple != 0, Confirm::kNacked);
                break;
            }
            case AMQP_BASIC_RETURN_METHOD:
                ReadReturn(connection, frame, confirms);
                break;
            default:
                connection.FailOnClose(frame.payload.method);  // throws for channel/connection.close
                break;
        }
    }
    return confirms.Results();
}

}  // namespace

Publisher::Publisher(ConnectionOptions options, Topology topology)
    : options_(std::move(options)), topology_(std::move(topology)) {}

Publisher::~Publisher() = default;

void Publisher::Drop() noexcept { connection_.reset(); }

detail::Connection& Publisher::Connected() {
    if (connection_) {
        // An idle publisher services no heartbeats, so the broker may have closed it meanwhile:
        // read whatever is already waiting, and start afresh if the connection turns out dead,
        // rather than fail the caller's batch for it.
        try {
            while (true) {
                const timeval now{0, 0};
                amqp_frame_t frame{};
                const int status = amqp_simple_wait_frame_noblock(connection_->Get(), &frame, &now);
                if (status == AMQP_STATUS_TIMEOUT) {
                    return *connection_;
                }
                connection_->CheckStatus(status, "poll idle connection");
                if (frame.frame_type == AMQP_FRAME_METHOD) {
                    connection_->FailOnClose(frame.payload.method);
                }
            }
        } catch (const AmqpError& error) {
            log::Info("amqp: publisher reconnecting", {{"reason", error.what()}});
            Drop();
        }
    }
    auto connection = std::make_unique<detail::Connection>(options_);
    amqp_confirm_select(connection->Get(), detail::kChannel);
    connection->CheckLastReply("confirm.select");
    connection->Declare(topology_);
    connection_ = std::move(connection);
    next_tag_ = 1;
    return *connection_;
}

void Publisher::Declare(const Topology& topology) {
    try {
        Connected().Declare(topology);
    } catch (...) {
        Drop();
        throw;
    }
    // Remembered only once the broker accepted it, so a bad declaration cannot poison reconnects.
    topology_ = Merge(std::move(topology_), topology);
}

std::vector<bool> Publisher::PublishBatch(std::span<const OutgoingMessage> messages,
                                          std::chrono::milliseconds timeout) {
    if (messages.empty()) {
        return {};
    }
    const auto deadline = Clock::now() + timeout;
    try {
        detail::Connection& connection = Connected();
        Confirms confirms(messages, next_tag_);
        for (const OutgoingMessage& message : messages) {
            Publish(connection, message);
            ++next_tag_;
        }
        return AwaitConfirms(connection, confirms, deadline);
    } catch (...) {
        // Whatever happened, the stream's state is unknown: the next call starts a new connection.
        Drop();
        throw;
    }
}

}  // namespace sn::amqp
