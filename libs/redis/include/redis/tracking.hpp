#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/background_thread.hpp"
#include "redis/client.hpp"

namespace sn::redis {

/// Server-assisted client-side caching: Redis says which keys changed, so a process can keep
/// what it read from them in memory and drop it when told. A thread of its own holds one
/// connection in broadcast tracking mode (`CLIENT TRACKING ON REDIRECT <itself> BCAST PREFIX ...`,
/// subscribed to `__redis__:invalidate`): every write to a key under one of the prefixes, by any
/// client, this one included, is told to the listener. Redis writes the invalidations of a
/// command out before it answers the command's writer. A broken connection is opened again; in
/// between, changes go untold, which is why Lost() must make the listener forget everything and
/// Up() start it afresh. A connection that stays silent is asked PING after `idle`; no answer by
/// the next `idle` counts as broken.
class Tracking {
   public:
    /// Called on Tracking's thread, never two at once.
    class Listener {
       public:
        virtual ~Listener() = default;
        /// Invalidations are flowing from now on (also after a reconnect).
        virtual void Up() = 0;
        /// The connection broke, or Tracking stops: changes may go untold until the next Up().
        virtual void Lost() = 0;
        /// These keys changed (written, expired, evicted or deleted).
        virtual void Changed(const std::vector<std::string>& keys) = 0;
        /// Every key changed (FLUSHALL, FLUSHDB).
        virtual void Flushed() = 0;
    };

    /// `name` is the connection's CLIENT SETNAME, for CLIENT LIST.
    Tracking(Options options, std::string name, std::vector<std::string> prefixes, Listener& listener,
             std::chrono::milliseconds idle = std::chrono::seconds(1));
    Tracking(const Tracking&) = delete;
    Tracking& operator=(const Tracking&) = delete;

    /// Closes the connection (the listener is told Lost()) and joins the thread. Idempotent.
    void Stop() noexcept { thread_.Stop(); }

   private:
    void Run(BackgroundThread& thread) noexcept;
    /// One connection's life: subscribes, then tells what comes until it breaks or Stop().
    void Listen(Connection& conn, const BackgroundThread& thread);

    const Options options_;
    const std::string name_;
    const std::vector<std::string> prefixes_;
    Listener& listener_;
    const std::chrono::milliseconds idle_;
    bool down_ = false;        // on the thread: the connection is lost and the log says so
    BackgroundThread thread_;  ///< last: starts once everything above exists
};

}  // namespace sn::redis
