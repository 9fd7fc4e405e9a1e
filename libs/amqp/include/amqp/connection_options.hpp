#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sn::amqp {

/// One broker node.
struct Address {
    std::string host;
    std::uint16_t port = 5672;
    friend bool operator==(const Address&, const Address&) = default;
};

/// Where and how to connect; one connection per Publisher or Consumer.
struct ConnectionOptions {
    /// The nodes of one cluster, tried in turn (starting at a different one for each new
    /// connection, so clients spread over the nodes) until one accepts the login.
    std::vector<Address> addresses{{"127.0.0.1", 5672}};
    std::string user = "guest";
    std::string password = "guest";
    std::string vhost = "/";
    /// Shown by `rabbitmqctl list_connections name client_properties`; empty leaves it unset.
    std::string name{};
    /// Heartbeats are only serviced inside library calls, so code that holds the connection's
    /// thread longer than about twice this gets disconnected by the broker.
    std::chrono::seconds heartbeat{30};
    std::chrono::milliseconds connect_timeout{5000};
    /// Bound on every request/response exchange (declare, qos, consume, close).
    std::chrono::milliseconds rpc_timeout{10000};
    int frame_max = 131072;
};

/// Parses "amqp://user:pass@host:port/vhost" (percent-encoded parts; empty path or "/" is the
/// default vhost "/"; optional query `heartbeat=<s>` and `connection_timeout=<ms>`), or several
/// such URLs separated by commas, one per node of a cluster, that differ only in host and port.
/// Throws std::invalid_argument on anything else.
[[nodiscard]] ConnectionOptions ParseUrl(std::string_view url);

/// "host:port" for logs.
[[nodiscard]] std::string Endpoint(const Address& address);
/// "host:port[,host:port...]/vhost" for logs: never the password.
[[nodiscard]] std::string Endpoint(const ConnectionOptions& options);

}  // namespace sn::amqp
