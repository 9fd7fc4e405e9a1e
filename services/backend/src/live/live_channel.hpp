#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "amqp/connection_options.hpp"
#include "common/metrics.hpp"
#include "http/router.hpp"
#include "http/websocket.hpp"

namespace backend {

/// What one live channel listens to on the broker, and whom a delivery is for.
struct LiveSource {
    std::string name;                    // metric prefix and log name: "feed_live", "dialogs_live"
    std::vector<std::string> exchanges;  // durable topic exchanges, declared (idempotently) on connect
    /// The binding keys, on every exchange, of one connected user.
    std::function<std::vector<std::string>(const std::string& user_id)> binding_keys;
    /// The users a delivery is for, each with the text its WebSockets get; none for a stray one.
    std::function<std::vector<std::pair<std::string, std::string>>(std::string_view exchange,
                                                                   std::string_view routing_key, std::string_view body)>
        route;
};

/// A live channel of this process: its WebSocket connections by user, and one broker connection
/// (own thread, rabbitmq-c) with an exclusive auto-delete queue bound with the source's keys once
/// per connected user, unbound when the user's last connection leaves. So each copy of the backend
/// receives exactly the events for the users connected to it, however many copies run.
class LiveChannel {
   public:
    LiveChannel(LiveSource source, sn::amqp::ConnectionOptions broker, sn::metrics::Registry& metrics);
    ~LiveChannel();
    LiveChannel(const LiveChannel&) = delete;
    LiveChannel& operator=(const LiveChannel&) = delete;

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

    const LiveSource source_;
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

/// A WebSocket route (bearer token or `?token=`) whose connections join `live`.
void AddLiveRoute(sn::http::Router& router, std::string_view pattern, LiveChannel& live);

/// postPosted, routing key = the follower: `GET /post/feed/posted`.
[[nodiscard]] LiveSource FeedLiveSource();
/// The saga's events (unreadMessages, unreadMessagesCounted; routing key `<author>.<recipient>`),
/// told to both people of the dialog: `GET /dialog/live` (docs/api.md).
[[nodiscard]] LiveSource DialogLiveSource();

}  // namespace backend
