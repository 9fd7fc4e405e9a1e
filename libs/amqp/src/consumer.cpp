#include "amqp/consumer.hpp"

#include <stdexcept>

#include "amqp/connection.hpp"
#include "backoff.hpp"
#include "common/log.hpp"

namespace sn::amqp {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How often an idle consumer looks at the stop flag.
constexpr milliseconds kPollInterval{250};
constexpr milliseconds kReconnectInitial{200};
constexpr milliseconds kHandlerRetryInitial{100};
constexpr milliseconds kMaxBackoff{5000};

[[nodiscard]] std::string HeaderString(const amqp_basic_properties_t& properties, std::string_view key) {
    if ((properties._flags & AMQP_BASIC_HEADERS_FLAG) == 0) {
        return {};
    }
    for (int i = 0; i < properties.headers.num_entries; ++i) {
        const amqp_table_entry_t& entry = properties.headers.entries[i];
        const bool text = entry.value.kind == AMQP_FIELD_KIND_UTF8 || entry.value.kind == AMQP_FIELD_KIND_BYTES;
        if (text && detail::ToString(entry.key) == key) {
            return detail::ToString(entry.value.value.bytes);
        }
    }
    return {};
}

[[nodiscard]] std::string Property(const amqp_basic_properties_t& properties, amqp_flags_t flag, amqp_bytes_t value) {
    return (properties._flags & flag) != 0 ? detail::ToString(value) : std::string{};
}

[[nodiscard]] Delivery ToDelivery(const amqp_envelope_t& envelope) {
    const amqp_basic_properties_t& properties = envelope.message.properties;
    return Delivery{
        .delivery_tag = envelope.delivery_tag,
        .exchange = detail::ToString(envelope.exchange),
        .routing_key = detail::ToString(envelope.routing_key),
        .message_id = Property(properties, AMQP_BASIC_MESSAGE_ID_FLAG, properties.message_id),
        .correlation_id = Property(properties, AMQP_BASIC_CORRELATION_ID_FLAG, properties.correlation_id),
        .request_id = HeaderString(properties, "x-request-id"),
        .content_type = Property(properties, AMQP_BASIC_CONTENT_TYPE_FLAG, properties.content_type),
        .body = detail::ToString(envelope.message.body),
        .redelivered = envelope.redelivered != 0,
    };
}

void StartConsuming(detail::Connection& connection, const ConsumerOptions& options) {
    amqp_basic_qos(connection.Get(), detail::kChannel, 0, options.prefetch, /*global=*/0);
    connection.CheckLastReply("basic.qos");
    amqp_basic_consume(connection.Get(), detail::kChannel, detail::Bytes(options.queue), amqp_empty_bytes,
                       /*no_local=*/0, /*no_ack=*/0, /*exclusive=*/0, amqp_empty_table);
    connection.CheckLastReply("basic.consume " + options.queue);
}

}  // namespace

Consumer::Consumer(ConnectionOptions connection, ConsumerOptions options, BatchHandler handler)
    : connection_options_(std::move(connection)), options_(std::move(options)), handler_(std::move(handler)) {
    if (options_.max_batch == 0 || options_.max_batch_bytes == 0 || options_.prefetch == 0 || !handler_) {
        throw std::invalid_argument(
            "Consumer: max_batch, max_batch_bytes and prefetch must be positive and a handler given");
    }
    thread_ = std::thread([this] { Run(); });
}

Consumer::~Consumer() { Stop(); }

void Consumer::Stop() noexcept {
    {
        const std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    const std::lock_guard lock(join_mutex_);
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
        thread_.join();
    }
}

void Consumer::Pause(milliseconds duration) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, duration, [this] { return stop_.load(); });
}

void Consumer::Run() noexcept {
    detail::Backoff backoff(kReconnectInitial, kMaxBackoff);
    bool first = true;
    while (!stop_) {
        try {
            detail::Connection connection(connection_options_);
            connection.Declare(options_.topology);
            StartConsuming(connection, options_);
            if (!first) {
                ++counters_.reconnects;
            }
            first = false;
            backoff.Reset();
            consuming_ = true;
            log::Info("amqp: consuming", {{"queue", options_.queue}, {"broker", Endpoint(connection.Node())}});
            ConsumeLoop(connection);
            consuming_ = false;
        } catch (const std::exception& error) {
            consuming_ = false;
            const auto delay = backoff.Next();
            log::Warn("amqp: consumer connection failed",
                      {{"queue", options_.queue}, {"error", error.what()}, {"retry_ms", delay.count()}});
            Pause(delay);
        } catch (...) {
            consuming_ = false;
            log::Error("amqp: consumer failed with a non-standard exception", {{"queue", options_.queue}});
            Pause(kMaxBackoff);
        }
    }
}

void Consumer::ConsumeLoop(detail::Connection& connection) {
    detail::Backoff handler_backoff(kHandlerRetryInitial, kMaxBackoff);
    std::vector<Delivery> batch;
    batch.reserve(options_.max_batch);
    while (!stop_) {
        amqp_maybe_release_buffers(connection.Get());
        batch.clear();
        std::size_t bytes = 0;
        if (auto delivery = Receive(connection, kPollInterval)) {
            bytes += delivery->body.size();
            batch.push_back(std::move(*delivery));
        } else {
            continue;
        }
        // Take what has already arrived (prefetched frames sit in the library's buffer), and wait
        // at most batch_linger in total for the rest: larger batches make cheaper transactions.
        const auto linger_until = Clock::now() + options_.batch_linger;
        while (batch.size() < options_.max_batch && bytes < options_.max_batch_bytes) {
            const bool buffered = amqp_data_in_buffer(connection.Get()) || amqp_frames_enqueued(connection.Get());
            const auto left = std::chrono::duration_cast<milliseconds>(linger_until - Clock::now());
            if (!buffered && left <= milliseconds::zero()) {
                break;
            }
            auto delivery = Receive(connection, buffered ? milliseconds::zero() : left);
            if (!delivery) {
                break;
            }
            bytes += delivery->body.size();
            batch.push_back(std::move(*delivery));
        }
        counters_.consumed += batch.size();

        std::vector<Outcome> outcomes;
        std::string failure;
        try {
            outcomes = handler_(batch);
            if (outcomes.size() != batch.size()) {
                failure = "handler returned " + std::to_string(outcomes.size()) + " outcomes for " +
                          std::to_string(batch.size()) + " deliveries";
            }
        } catch (const std::exception& error) {
            failure = error.what();
        } catch (...) {
            failure = "non-standard exception";
        }
        if (!failure.empty()) {
            const auto delay = handler_backoff.Next();
            log::Error(
                "amqp: handler failed, batch requeued",
                {{"queue", options_.queue}, {"error", failure}, {"batch", batch.size()}, {"retry_ms", delay.count()}});
            connection.CheckStatus(amqp_basic_nack(connection.Get(), detail::kChannel, batch.back().delivery_tag,
                                                   /*multiple=*/1, /*requeue=*/1),
                                   "basic.nack");
            counters_.requeued += batch.size();
            Pause(delay);
            continue;
        }
        handler_backoff.Reset();
        Settle(connection, batch, outcomes);
    }
}

std::optional<Delivery> Consumer::Receive(detail::Connection& connection, milliseconds timeout) {
    amqp_envelope_t envelope{};
    const timeval wait = detail::ToTimeval(timeout);
    const amqp_rpc_reply_t reply = amqp_consume_message(connection.Get(), &envelope, &wait, 0);
    if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
        const std::unique_ptr<amqp_envelope_t, detail::EnvelopeDeleter> owner(&envelope);
        return ToDelivery(envelope);
    }
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT) {
        return std::nullopt;
    }
    if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        // A frame other than a delivery is next: read it and see whether the consumer is over.
        amqp_frame_t frame{};
        const timeval frame_wait = detail::ToTimeval(connection_options_.rpc_timeout);
        connection.CheckStatus(amqp_simple_wait_frame_noblock(connection.Get(), &frame, &frame_wait),
                               "read unexpected frame");
        if (frame.frame_type == AMQP_FRAME_METHOD) {
            connection.FailOnClose(frame.payload.method);
            if (frame.payload.method.id == AMQP_BASIC_CANCEL_METHOD) {
                throw AmqpError("amqp: " + detail::DescribeMethod(frame.payload.method));
            }
        }
        return std::nullopt;
    }
    connection.CheckReply(reply, "consume from " + options_.queue);
    return std::nullopt;
}

void Consumer::Settle(detail::Connection& connection, std::span<const Delivery> batch,
                      std::span<const Outcome> outcomes) {
    amqp_connection_state_t state = connection.Get();
    std::uint64_t run = 0;  // acks waiting for the multiple-ack that ends their run
    for (std::size_t i = 0; i < batch.size(); ++i) {
        const std::uint64_t tag = batch[i].delivery_tag;
        switch (outcomes[i]) {
            case Outcome::kAck: {
                // One multiple-ack closes a run of acks: everything before the run is settled
                // already, in order, so "up to this tag" means exactly this run.
                ++run;
                if (i + 1 == batch.size() || outcomes[i + 1] != Outcome::kAck) {
                    connection.CheckStatus(amqp_basic_ack(state, detail::kChannel, tag, /*multiple=*/1), "basic.ack");
                    counters_.acked += run;
                    run = 0;
                }
                break;
            }
            case Outcome::kReject:
                connection.CheckStatus(amqp_basic_reject(state, detail::kChannel, tag, /*requeue=*/0), "basic.reject");
                ++counters_.rejected;
                break;
            case Outcome::kRequeue:
                connection.CheckStatus(amqp_basic_reject(state, detail::kChannel, tag, /*requeue=*/1),
                                       "basic.reject requeue");
                ++counters_.requeued;
                break;
        }
    }
}

}  // namespace sn::amqp
