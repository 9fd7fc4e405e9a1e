#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "common/metrics.hpp"

namespace dialogs {

/// Re-publishes the events of sagas stuck in a PENDING_* state past a timeout, with their
/// original event ids (counters deduplicates), so that no message waits forever. Also keeps the
/// per-state gauge of sagas in flight current. Any number of copies may run.
class Sweeper {
   public:
    Sweeper(std::string dsn, std::chrono::milliseconds interval, std::chrono::milliseconds timeout,
            sn::metrics::Registry& metrics);
    ~Sweeper();
    Sweeper(const Sweeper&) = delete;
    Sweeper& operator=(const Sweeper&) = delete;

    void Stop() noexcept;

   private:
    void Run() noexcept;

    std::string dsn_;
    std::chrono::milliseconds interval_;
    std::chrono::milliseconds timeout_;
    sn::metrics::Counter& republished_;
    sn::metrics::Registry& metrics_;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::condition_variable wake_;
    std::thread thread_;
};

}  // namespace dialogs
