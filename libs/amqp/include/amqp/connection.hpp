#pragma once

// The one place that opens rabbitmq-c connections: libs/amqp's publisher and consumer, and the
// backend's live feed (which drives rabbitmq-c itself for its server-named queue).

#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/tcp_socket.h>
#else  // Debian's 0.11 package still installs the pre-0.11 flat layout
#include <amqp.h>
#include <amqp_tcp_socket.h>
#endif

#include <sys/time.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "amqp/connection_options.hpp"
#include "amqp/error.hpp"
#include "amqp/topology.hpp"

namespace sn::amqp::detail {

/// Every object uses this one channel on its own connection.
inline constexpr amqp_channel_t kChannel = 1;

[[nodiscard]] inline amqp_bytes_t Bytes(std::string_view text) noexcept {
    return amqp_bytes_t{text.size(), const_cast<char*>(text.data())};
}
[[nodiscard]] inline std::string ToString(amqp_bytes_t bytes) {
    return bytes.len == 0 ? std::string{} : std::string(static_cast<const char*>(bytes.bytes), bytes.len);
}
/// Negative durations become zero: "poll once, do not wait".
[[nodiscard]] timeval ToTimeval(std::chrono::microseconds duration) noexcept;

/// "connection.close 320 CONNECTION_FORCED - ..." or the method's id for others.
[[nodiscard]] std::string DescribeMethod(const amqp_method_t& method);
[[nodiscard]] std::string DescribeReply(const amqp_rpc_reply_t& reply);

struct StateDeleter {
    void operator()(amqp_connection_state_t state) const noexcept { amqp_destroy_connection(state); }
};
using StatePtr = std::unique_ptr<amqp_connection_state_t_, StateDeleter>;

struct MessageDeleter {
    void operator()(amqp_message_t* message) const noexcept { amqp_destroy_message(message); }
};
struct EnvelopeDeleter {
    void operator()(amqp_envelope_t* envelope) const noexcept { amqp_destroy_envelope(envelope); }
};

/// An open, logged-in connection with channel kChannel open. Closed politely on destruction
/// unless it broke, in which case the socket is simply dropped.
class Connection {
   public:
    /// Connects to the first of the options' addresses that accepts (each new connection starts
    /// at the next address), logs in and opens the channel; throws AmqpError when none does.
    explicit Connection(const ConnectionOptions& options);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    [[nodiscard]] amqp_connection_state_t Get() const noexcept { return state_.get(); }
    /// The node this connection reached.
    [[nodiscard]] const Address& Node() const noexcept { return node_; }

    /// Throws AmqpError("<what>: <reason>") unless the reply is normal; answers a broker close
    /// so the stream stays consistent.
    void CheckReply(const amqp_rpc_reply_t& reply, std::string_view what);
    void CheckLastReply(std::string_view what) { CheckReply(amqp_get_rpc_reply(Get()), what); }
    /// Throws AmqpError("<what>: <amqp_error_string2>") for a negative status.
    void CheckStatus(int status, std::string_view what);
    /// For a channel.close or connection.close that arrived unasked: answer it and throw
    /// AmqpError with the broker's reply text. Other methods return normally.
    void FailOnClose(const amqp_method_t& method);

    void Declare(const Topology& topology);

   private:
    void Open(const ConnectionOptions& options, const Address& address);
    [[noreturn]] void Fail(std::string message);

    StatePtr state_;
    Address node_;
    bool broken_ = false;  ///< the socket is unusable: skip the polite close
    std::chrono::milliseconds rpc_timeout_;
};

}  // namespace sn::amqp::detail
