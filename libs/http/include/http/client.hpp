#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/types.hpp"

namespace sn::http {

struct UpstreamOptions {
    std::chrono::milliseconds connect_timeout{1'000};
    std::chrono::milliseconds timeout{5'000};  // for the whole exchange once connected
    std::size_t max_idle = 64;                  // kept-alive connections parked for reuse
    std::uint64_t body_limit = 16 * 1024 * 1024;
};

/// A pool of keep-alive HTTP/1.1 connections to one service (the gateway's way to dialogs and
/// counters). Failures become the gateway's JSON errors: 503 when the service cannot be reached,
/// 504 when it does not answer in time, 502 when it answers with something that is not HTTP.
class Upstream {
   public:
    /// base_url is `http://host:port`; throws std::invalid_argument for anything else.
    Upstream(boost::asio::any_io_executor executor, const std::string& base_url, UpstreamOptions options = {});
    ~Upstream();
    Upstream(const Upstream&) = delete;
    Upstream& operator=(const Upstream&) = delete;

    /// Sends a copy of the request (its target, method, headers and body; Host is set) and returns
    /// the response. A parked connection that turns out to be closed is retried once on a new one.
    /// The request is a reference because the caller waits (and GCC 12 mishandles by-value
    /// coroutine arguments with destructors).
    [[nodiscard]] boost::asio::awaitable<Response> Send(const Request& original);

   private:
    struct Connection;
    boost::asio::awaitable<std::unique_ptr<Connection>> Lease();
    void Park(std::unique_ptr<Connection> connection);
    boost::asio::awaitable<Response> Exchange(Connection& connection, const Request& request);

    boost::asio::any_io_executor executor_;
    std::string host_;
    std::string port_;
    UpstreamOptions options_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<Connection>> idle_;
};

}  // namespace sn::http
