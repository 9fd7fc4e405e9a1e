#include "redis/tracking.hpp"

#include <algorithm>

#include "common/log.hpp"

namespace sn::redis {
namespace {

constexpr std::string_view kChannel = "__redis__:invalidate";
/// How often the thread looks at the stop flag while the connection is silent.
constexpr std::chrono::milliseconds kSlice{100};
/// Between attempts to connect again: doubling from the first to the last.
constexpr std::chrono::milliseconds kFirstPause{200};
constexpr std::chrono::milliseconds kLastPause{2000};

}  // namespace

Tracking::Tracking(Options options, std::string name, std::vector<std::string> prefixes, Listener& listener,
                   std::chrono::milliseconds idle)
    : options_(std::move(options)),
      name_(std::move(name)),
      prefixes_(std::move(prefixes)),
      listener_(listener),
      idle_(idle),
      thread_([this](BackgroundThread& thread) { Run(thread); }) {}

void Tracking::Run(BackgroundThread& thread) noexcept {
    auto pause = kFirstPause;
    while (!thread.Stopping()) {
        try {
            Connection conn(options_);
            Listen(conn, thread);
        } catch (const std::exception& e) {
            if (!down_) {  // one line an outage, not one an attempt
                log::Warn("redis tracking lost: nothing is kept in memory until it is back", {{"error", e.what()}});
            }
        }
        listener_.Lost();
        pause = down_ ? std::min(2 * pause, kLastPause) : kFirstPause;
        down_ = true;
        thread.Pause(pause);
    }
}

void Tracking::Listen(Connection& conn, const BackgroundThread& thread) {
    (void)Checked(conn.Run({"CLIENT", "SETNAME", name_}));
    const auto id = Checked(conn.Run({"CLIENT", "ID"})).integer;
    Command tracking{"CLIENT", "TRACKING", "ON", "REDIRECT", std::to_string(id), "BCAST"};
    for (const auto& prefix : prefixes_) {
        tracking.insert(tracking.end(), {"PREFIX", prefix});
    }
    (void)Checked(conn.Run(tracking));
    const auto subscribed = Checked(conn.Run({"SUBSCRIBE", std::string(kChannel)}));
    if (subscribed.elements.empty() || subscribed.elements[0].str != "subscribe") {
        throw ConnectionError("redis tracking: SUBSCRIBE was not confirmed");
    }
    listener_.Up();
    if (down_) {
        log::Info("redis tracking is back");
        down_ = false;
    }

    auto heard = std::chrono::steady_clock::now();
    bool asked = false;  // a PING is out
    while (!thread.Stopping()) {
        const auto now = std::chrono::steady_clock::now();
        if (now - heard >= idle_) {
            if (asked) {
                throw ConnectionError("redis tracking: no answer to PING");
            }
            conn.Send({"PING"});
            asked = true;
            heard = now;
        }
        const auto message = conn.Receive(std::min(now + kSlice, heard + idle_));
        if (!message) {
            continue;
        }
        heard = std::chrono::steady_clock::now();
        asked = false;
        // ["message", channel, [key, ...]] or, for a flush, ["message", channel, nil]; ["pong", ""].
        const auto& parts = message->elements;
        if (parts.size() == 3 && parts[0].str == "message" && parts[1].str == kChannel) {
            if (parts[2].IsNil()) {
                listener_.Flushed();
            } else {
                std::vector<std::string> keys;
                keys.reserve(parts[2].elements.size());
                for (const auto& key : parts[2].elements) {
                    keys.push_back(key.str);
                }
                listener_.Changed(keys);
            }
        }
    }
}

}  // namespace sn::redis
