#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace sn {

/// A thread that runs `body` once, from construction until it returns: the body loops while
/// !Stopping() and sleeps through Pause(), which Stop() cuts short. What a service does in the
/// background on a timer (pg::PeriodicJob, redis::Tracking) is built on it, so stopping promptly
/// is done in one place. Make it the last member of its owner: it starts at once.
class BackgroundThread {
   public:
    explicit BackgroundThread(std::function<void(BackgroundThread&)> body)
        : body_(std::move(body)), thread_([this] { body_(*this); }) {}
    ~BackgroundThread() { Stop(); }
    BackgroundThread(const BackgroundThread&) = delete;
    BackgroundThread& operator=(const BackgroundThread&) = delete;

    /// Asks the body to end, wakes it from Pause() and joins it. Idempotent; not from the body.
    void Stop() noexcept {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
            thread_.join();
        }
    }

    [[nodiscard]] bool Stopping() const noexcept { return stopping_.load(); }

    /// Sleeps for `duration` unless Stop() comes first; false when stopping.
    bool Pause(std::chrono::milliseconds duration) {
        std::unique_lock lock(mutex_);
        return !wake_.wait_for(lock, duration, [this] { return stopping_.load(); });
    }

   private:
    const std::function<void(BackgroundThread&)> body_;
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    std::condition_variable wake_;
    std::thread thread_;  ///< last: starts once everything above exists
};

}  // namespace sn
