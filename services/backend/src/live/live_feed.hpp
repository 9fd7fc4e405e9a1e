#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "amqp/connection_options.hpp"
#include "common/metrics.hpp"
#include "http/router.hpp"
#include "http/websocket.hpp"

namespace backend {

/// The live feed of this process: its WebSocket connections by user, and one broker connection
/// (own thread, rabbitmq-c) with an exclusive auto-delete queue bound to postPosted once per
/// connected user (routing key = the user id), unbound when the user's last connection leaves.
/// So each copy of the backend receives exactly the posts for the users connected to it.
class LiveFeed {
   public:
    LiveFeed(sn::amqp::ConnectionOptions broker, sn::metrics::Registry& metrics);
    ~LiveFeed();
    LiveFeed(const LiveFeed&) = delete;
    LiveFeed& operator=(const LiveFeed&) = delete;

    void Add(const std::string& user_id, const sn::http::WebSocket& socket);
    void Remove(const std::string& user_id, const sn::http::WebSocket& socket);
    /// Closes every connection and the broker connection; joins the thread. Idempotent.
    void Stop() noexcept;
    [[nodiscard]] bool Consuming() const noexcept { return consuming_.load(); }

   private:
    struct Change {
        bool bind = true;
        std::string user_id;
    };
    void Run() noexcept;
    void ConsumeOnce();
    void Deliver(const std::string& user_id, const std::string& body);

    const sn::amqp::ConnectionOptions broker_;
    sn::metrics::Counter& delivered_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::vector<sn::http::WebSocket>> sockets_;
    std::vector<Change> changes_;  // bindings still to make on the broker, in order
    std::atomic<bool> stop_{false};
    std::atomic<bool> consuming_{false};
    std::condition_variable wake_;
    std::thread thread_;  // last
};

/// `GET /post/feed/posted` (WebSocket, bearer token or `?token=`).
void AddLiveFeedRoute(sn::http::Router& router, LiveFeed& live);

}  // namespace backend
