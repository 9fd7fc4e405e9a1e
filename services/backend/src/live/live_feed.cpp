#include "live/live_feed.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "amqp/connection.hpp"
#include "common/log.hpp"
#include "feed/events.hpp"

namespace backend {
namespace {

using sn::amqp::detail::Bytes;
using sn::amqp::detail::kChannel;
using sn::amqp::detail::ToString;
using sn::amqp::detail::ToTimeval;

constexpr auto kPoll = std::chrono::milliseconds(100);  // how soon a new binding is made
constexpr auto kReconnectPause = std::chrono::seconds(1);

}  // namespace

LiveFeed::LiveFeed(sn::amqp::ConnectionOptions broker, sn::metrics::Registry& metrics)
    : broker_(std::move(broker)),
      delivered_(metrics.GetCounter("feed_live_delivered_total", "Live-feed messages sent to WebSockets.")),
      thread_([this] { Run(); }) {
    metrics.AddCallbackGauge("feed_live_users", "Users with a live-feed connection to this process.", [this] {
        const std::lock_guard lock(mutex_);
        return static_cast<double>(sockets_.size());
    });
}

LiveFeed::~LiveFeed() { Stop(); }

void LiveFeed::Stop() noexcept {
    stop_ = true;
    wake_.notify_all();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
        thread_.join();
    }
    const std::lock_guard lock(mutex_);
    for (const auto& [user, sockets] : sockets_) {
        for (const auto& socket : sockets) {
            socket.Close();
        }
    }
}

void LiveFeed::Add(const std::string& user_id, const sn::http::WebSocket& socket) {
    const std::lock_guard lock(mutex_);
    auto& sockets = sockets_[user_id];
    if (sockets.empty()) {
        changes_.push_back(Change{true, user_id});
    }
    sockets.push_back(socket);
}

void LiveFeed::Remove(const std::string& user_id, const sn::http::WebSocket& socket) {
    const std::lock_guard lock(mutex_);
    const auto it = sockets_.find(user_id);
    if (it == sockets_.end()) {
        return;
    }
    std::erase_if(it->second, [&](const sn::http::WebSocket& s) { return s.Id() == socket.Id(); });
    if (it->second.empty()) {
        sockets_.erase(it);
        changes_.push_back(Change{false, user_id});
    }
}

void LiveFeed::Deliver(const std::string& user_id, const std::string& body) {
    std::vector<sn::http::WebSocket> targets;
    {
        const std::lock_guard lock(mutex_);
        if (const auto it = sockets_.find(user_id); it != sockets_.end()) {
            targets = it->second;
        }
    }
    for (const auto& socket : targets) {
        socket.Send(body);
        delivered_.Add();
    }
}

void LiveFeed::Run() noexcept {
    while (!stop_) {
        try {
            ConsumeOnce();
        } catch (const std::exception& e) {
            sn::log::Warn("live feed: broker connection lost, reconnecting", {{"error", e.what()}});
        }
        consuming_ = false;
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, kReconnectPause, [this] { return stop_.load(); });
    }
}

void LiveFeed::ConsumeOnce() {
    sn::amqp::detail::Connection connection(broker_);
    amqp_connection_state_t state = connection.Get();
    const auto exchange = std::string(feed::kPostPosted);
    amqp_exchange_declare(state, kChannel, Bytes(exchange), Bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
    connection.CheckLastReply("exchange.declare");
    // Server-named, exclusive, auto-delete: it lives exactly as long as this connection.
    const auto* declared = amqp_queue_declare(state, kChannel, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
    connection.CheckLastReply("queue.declare");
    const std::string queue = ToString(declared->queue);
    // Best effort (no acks): a notification lost with a connection is not worth a redelivery.
    amqp_basic_consume(state, kChannel, Bytes(queue), amqp_empty_bytes, 0, 1, 1, amqp_empty_table);
    connection.CheckLastReply("basic.consume");
    {
        // A fresh queue: bind everyone connected now; queued changes are covered by that.
        const std::lock_guard lock(mutex_);
        changes_.clear();
        for (const auto& [user, sockets] : sockets_) {
            changes_.push_back(Change{true, user});
        }
    }
    consuming_ = true;
    sn::log::Info("live feed consuming", {{"queue", queue}});
    while (!stop_) {
        std::vector<Change> changes;
        {
            const std::lock_guard lock(mutex_);
            changes.swap(changes_);
        }
        for (const auto& change : changes) {
            // Deliveries that arrive during these calls are kept by rabbitmq-c for consume below.
            if (change.bind) {
                amqp_queue_bind(state, kChannel, Bytes(queue), Bytes(exchange), Bytes(change.user_id),
                                amqp_empty_table);
            } else {
                amqp_queue_unbind(state, kChannel, Bytes(queue), Bytes(exchange), Bytes(change.user_id),
                                  amqp_empty_table);
            }
            connection.CheckLastReply(change.bind ? "queue.bind" : "queue.unbind");
        }
        amqp_maybe_release_buffers(state);
        amqp_envelope_t envelope;
        auto wait = ToTimeval(kPoll);
        const auto reply = amqp_consume_message(state, &envelope, &wait, 0);
        if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
            const std::string user = ToString(envelope.routing_key);
            const std::string body = ToString(envelope.message.body);
            amqp_destroy_envelope(&envelope);
            Deliver(user, body);
            continue;
        }
        if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT) {
            continue;
        }
        connection.CheckReply(reply, "consume");  // throws: the connection is gone
    }
}

void AddLiveFeedRoute(sn::http::Router& router, LiveFeed& live) {
    router.AddWebSocket("/post/feed/posted", sn::http::Access::kAuthenticated,
                        [&live](sn::http::Context& ctx, sn::http::WebSocket& socket) -> boost::asio::awaitable<void> {
                            struct Registration {
                                LiveFeed& live;
                                const std::string& user;
                                const sn::http::WebSocket& socket;
                                ~Registration() { live.Remove(user, socket); }
                            };
                            live.Add(ctx.user_id, socket);
                            const Registration registration{live, ctx.user_id, socket};
                            co_await socket.Serve();
                        });
}

}  // namespace backend
