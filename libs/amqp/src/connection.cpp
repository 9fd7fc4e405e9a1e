#include "amqp/connection.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>

#include "common/log.hpp"

namespace sn::amqp::detail {
namespace {

// A polite close should not hold up Stop() or a reconnect when the broker is unwell.
constexpr std::chrono::milliseconds kCloseTimeout{500};

[[nodiscard]] amqp_table_entry_t Entry(const char* key, amqp_field_value_t value) noexcept {
    return amqp_table_entry_t{amqp_cstring_bytes(key), value};
}
[[nodiscard]] amqp_field_value_t Utf8(std::string_view text) noexcept {
    amqp_field_value_t value{};
    value.kind = AMQP_FIELD_KIND_UTF8;
    value.value.bytes = Bytes(text);
    return value;
}

}  // namespace

timeval ToTimeval(std::chrono::microseconds duration) noexcept {
    const auto micros = std::max<std::int64_t>(duration.count(), 0);
    return timeval{static_cast<time_t>(micros / 1'000'000), static_cast<suseconds_t>(micros % 1'000'000)};
}

std::string DescribeMethod(const amqp_method_t& method) {
    const auto describe = [](const char* what, const auto* close) {
        return std::string(what) + " " + std::to_string(close->reply_code) + " " + ToString(close->reply_text);
    };
    switch (method.id) {
        case AMQP_CONNECTION_CLOSE_METHOD:
            return describe("connection.close", static_cast<const amqp_connection_close_t*>(method.decoded));
        case AMQP_CHANNEL_CLOSE_METHOD:
            return describe("channel.close", static_cast<const amqp_channel_close_t*>(method.decoded));
        case AMQP_BASIC_CANCEL_METHOD:
            return "basic.cancel (the queue was deleted or the node went down)";
        default: {
            std::array<char, 48> text{};
            std::snprintf(text.data(), text.size(), "unexpected method %s (0x%08x)", amqp_method_name(method.id),
                          method.id);
            return text.data();
        }
    }
}

std::string DescribeReply(const amqp_rpc_reply_t& reply) {
    switch (reply.reply_type) {
        case AMQP_RESPONSE_NORMAL:
            return "ok";
        case AMQP_RESPONSE_NONE:
            return "no reply";
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return amqp_error_string2(reply.library_error);
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            return DescribeMethod(reply.reply);
    }
    return "unknown reply type";
}

Connection::Connection(const ConnectionOptions& options) : rpc_timeout_(options.rpc_timeout) {
    const std::size_t count = options.addresses.size();
    if (count == 0) {
        throw AmqpError("amqp: no broker address");
    }
    static std::atomic<std::size_t> next_start{0};
    const std::size_t start = next_start.fetch_add(1, std::memory_order_relaxed);
    std::string failures;
    for (std::size_t i = 0; i < count; ++i) {
        try {
            Open(options, options.addresses[(start + i) % count]);
            return;
        } catch (const AmqpError& error) {
            failures += (failures.empty() ? "" : "; ") + std::string(error.what());
        }
    }
    throw AmqpError(count == 1 ? failures : "amqp: no broker node accepted: " + failures);
}

void Connection::Open(const ConnectionOptions& options, const Address& address) {
    state_.reset(amqp_new_connection());  // a failed attempt's state is of no further use
    broken_ = false;
    node_ = address;
    if (!state_) {
        throw AmqpError("amqp: cannot allocate a connection");
    }
    // Owned by the connection state: freed by amqp_destroy_connection.
    amqp_socket_t* socket = amqp_tcp_socket_new(Get());
    if (socket == nullptr) {
        throw AmqpError("amqp: cannot allocate a socket");
    }
    const timeval connect_timeout = ToTimeval(options.connect_timeout);
    const timeval rpc_timeout = ToTimeval(options.rpc_timeout);
    CheckStatus(amqp_set_handshake_timeout(Get(), &connect_timeout), "set handshake timeout");
    CheckStatus(amqp_set_rpc_timeout(Get(), &rpc_timeout), "set rpc timeout");
    CheckStatus(amqp_socket_open_noblock(socket, address.host.c_str(), address.port, &connect_timeout),
                "connect to " + Endpoint(address));

    // Without consumer_cancel_notify the broker never tells a consumer that its queue is gone,
    // and it would wait forever on a dead subscription.
    amqp_field_value_t yes{};
    yes.kind = AMQP_FIELD_KIND_BOOLEAN;
    yes.value.boolean = 1;
    std::array capability_entries{Entry("consumer_cancel_notify", yes)};
    amqp_field_value_t capabilities{};
    capabilities.kind = AMQP_FIELD_KIND_TABLE;
    capabilities.value.table = amqp_table_t{static_cast<int>(capability_entries.size()), capability_entries.data()};
    std::array property_entries{Entry("capabilities", capabilities), Entry("connection_name", Utf8(options.name))};
    const amqp_table_t properties{options.name.empty() ? 1 : 2, property_entries.data()};

    CheckReply(amqp_login_with_properties(Get(), options.vhost.c_str(), 0, options.frame_max,
                                          static_cast<int>(options.heartbeat.count()), &properties,
                                          AMQP_SASL_METHOD_PLAIN, options.user.c_str(), options.password.c_str()),
               "login to " + Endpoint(address));
    amqp_channel_open(Get(), kChannel);
    CheckLastReply("channel.open");
}

Connection::~Connection() {
    if (broken_) {
        return;
    }
    const timeval timeout = ToTimeval(std::min(rpc_timeout_, kCloseTimeout));
    amqp_set_rpc_timeout(Get(), &timeout);
    // Best effort: if the broker does not answer in time the socket is dropped all the same.
    (void)amqp_connection_close(Get(), AMQP_REPLY_SUCCESS);
}

void Connection::Fail(std::string message) { throw AmqpError("amqp: " + std::move(message)); }

void Connection::CheckStatus(int status, std::string_view what) {
    if (status < 0) {
        broken_ = true;  // every failing status of a send/receive leaves the stream unusable
        Fail(std::string(what) + ": " + amqp_error_string2(status));
    }
}

void Connection::CheckReply(const amqp_rpc_reply_t& reply, std::string_view what) {
    if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
        return;
    }
    if (reply.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION) {
        FailOnClose(reply.reply);
    }
    broken_ = true;
    Fail(std::string(what) + ": " + DescribeReply(reply));
}

void Connection::FailOnClose(const amqp_method_t& method) {
    if (method.id == AMQP_CHANNEL_CLOSE_METHOD) {
        // The channel is gone but the connection is fine, so it can still be closed politely.
        amqp_channel_close_ok_t ok{};
        if (amqp_send_method(Get(), kChannel, AMQP_CHANNEL_CLOSE_OK_METHOD, &ok) < 0) {
            broken_ = true;
        }
        Fail(DescribeMethod(method));
    }
    if (method.id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_connection_close_ok_t ok{};
        (void)amqp_send_method(Get(), 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &ok);
        broken_ = true;
        Fail(DescribeMethod(method));
    }
}

void Connection::Declare(const Topology& topology) {
    for (const auto& exchange : topology.exchanges) {
        amqp_exchange_declare(Get(), kChannel, Bytes(exchange.name), Bytes(exchange.type), /*passive=*/0,
                              exchange.durable, /*auto_delete=*/0, /*internal=*/0, amqp_empty_table);
        CheckLastReply("exchange.declare " + exchange.name);
    }
    for (const auto& queue : topology.queues) {
        std::array<amqp_table_entry_t, 3> entries{};
        int count = 0;
        if (queue.quorum) {
            entries[count++] = Entry("x-queue-type", Utf8("quorum"));
        }
        if (queue.dead_letter_exchange) {
            entries[count++] = Entry("x-dead-letter-exchange", Utf8(*queue.dead_letter_exchange));
        }
        if (queue.quorum && queue.delivery_limit) {
            amqp_field_value_t limit{};
            limit.kind = AMQP_FIELD_KIND_I64;
            limit.value.i64 = *queue.delivery_limit;
            entries[count++] = Entry("x-delivery-limit", limit);
        }
        amqp_queue_declare(Get(), kChannel, Bytes(queue.name), /*passive=*/0, queue.durable, /*exclusive=*/0,
                           /*auto_delete=*/0, amqp_table_t{count, entries.data()});
        CheckLastReply("queue.declare " + queue.name);
    }
    for (const auto& binding : topology.bindings) {
        amqp_queue_bind(Get(), kChannel, Bytes(binding.queue), Bytes(binding.exchange), Bytes(binding.routing_key),
                        amqp_empty_table);
        CheckLastReply("queue.bind " + binding.queue + " to " + binding.exchange);
    }
}

}  // namespace sn::amqp::detail
