#include "live/live_channel.hpp"

#include <algorithm>

#include "amqp/connection.hpp"
#include "common/log.hpp"

namespace backend {
namespace {

using sn::amqp::detail::Bytes;
using sn::amqp::detail::kChannel;
using sn::amqp::detail::ToString;
using sn::amqp::detail::ToTimeval;

constexpr auto kPoll = std::chrono::milliseconds(100);  // how soon a new binding is made
constexpr auto kReconnectPause = std::chrono::seconds(1);

}  // namespace

LiveChannel::LiveChannel(LiveSource source, sn::amqp::ConnectionOptions broker, sn::metrics::Registry& metrics)
    : source_(std::move(source)),
      broker_(std::move(broker)),
      delivered_(metrics.GetCounter(source_.name + "_delivered_total", "Live messages sent to WebSockets.")),
      thread_([this] { Run(); }) {
    metrics.AddCallbackGauge(source_.name + "_users", "Users with a live connection to this process.", [this] {
        const std::lock_guard lock(mutex_);
        return static_cast<double>(sockets_.size());
    });
}

LiveChannel::~LiveChannel() { Stop(); }

void LiveChannel::Stop() noexcept {
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

void LiveChannel::Add(const std::string& user_id, const sn::http::WebSocket& socket) {
    const std::lock_guard lock(mutex_);
    auto& sockets = sockets_[user_id];
    if (sockets.empty()) {
        changes_.push_back(Change{true, user_id});
    }
    sockets.push_back(socket);
}

void LiveChannel::Remove(const std::string& user_id, const sn::http::WebSocket& socket) {
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

void LiveChannel::Deliver(const std::string& user_id, const std::string& body) {
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

void LiveChannel::Run() noexcept {
    while (!stop_) {
        try {
            ConsumeOnce();
        } catch (const std::exception& e) {
            sn::log::Warn("live channel: broker connection lost, reconnecting",
                          {{"channel", source_.name}, {"error", e.what()}});
        }
        consuming_ = false;
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, kReconnectPause, [this] { return stop_.load(); });
    }
}

void LiveChannel::ConsumeOnce() {
    sn::amqp::detail::Connection connection(broker_);
    amqp_connection_state_t state = connection.Get();
    for (const auto& exchange : source_.exchanges) {
        amqp_exchange_declare(state, kChannel, Bytes(exchange), Bytes("topic"), 0, 1, 0, 0, amqp_empty_table);
        connection.CheckLastReply("exchange.declare");
    }
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
    sn::log::Info("live channel consuming", {{"channel", source_.name}, {"queue", queue}});
    while (!stop_) {
        std::vector<Change> changes;
        {
            const std::lock_guard lock(mutex_);
            changes.swap(changes_);
        }
        for (const auto& change : changes) {
            // Deliveries that arrive during these calls are kept by rabbitmq-c for consume below.
            for (const auto& exchange : source_.exchanges) {
                for (const auto& key : source_.binding_keys(change.user_id)) {
                    if (change.bind) {
                        amqp_queue_bind(state, kChannel, Bytes(queue), Bytes(exchange), Bytes(key), amqp_empty_table);
                    } else {
                        amqp_queue_unbind(state, kChannel, Bytes(queue), Bytes(exchange), Bytes(key), amqp_empty_table);
                    }
                    connection.CheckLastReply(change.bind ? "queue.bind" : "queue.unbind");
                }
            }
        }
        amqp_maybe_release_buffers(state);
        amqp_envelope_t envelope;
        auto wait = ToTimeval(kPoll);
        const auto reply = amqp_consume_message(state, &envelope, &wait, 0);
        if (reply.reply_type == AMQP_RESPONSE_NORMAL) {
            const std::string exchange = ToString(envelope.exchange);
            const std::string key = ToString(envelope.routing_key);
            const std::string body = ToString(envelope.message.body);
            amqp_destroy_envelope(&envelope);
            for (const auto& [user, text] : source_.route(exchange, key, body)) {
                Deliver(user, text);
            }
            continue;
        }
        if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && reply.library_error == AMQP_STATUS_TIMEOUT) {
            continue;
        }
        connection.CheckReply(reply, "consume");  // throws: the connection is gone
    }
}

void AddLiveRoute(sn::http::Router& router, std::string_view pattern, LiveChannel& live) {
    router.AddWebSocket(pattern, sn::http::Access::kAuthenticated,
                        [&live](sn::http::Context& ctx, sn::http::WebSocket& socket) -> boost::asio::awaitable<void> {
                            struct Registration {
                                LiveChannel& live;
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
