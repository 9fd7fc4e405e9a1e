#include "workers/sweeper.hpp"

#include <memory>

#include "common/log.hpp"
#include "pg/connection.hpp"
#include "storage/messages.hpp"

namespace dialogs {

Sweeper::Sweeper(std::string dsn, std::chrono::milliseconds interval, std::chrono::milliseconds timeout,
                 sn::metrics::Registry& metrics)
    : dsn_(std::move(dsn)),
      interval_(interval),
      timeout_(timeout),
      republished_(metrics.GetCounter("saga_events_republished_total", "Events of stuck sagas sent again.")),
      metrics_(metrics),
      thread_([this] { Run(); }) {}

Sweeper::~Sweeper() { Stop(); }

void Sweeper::Stop() noexcept {
    {
        const std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void Sweeper::Run() noexcept {
    std::unique_ptr<sn::pg::Connection> conn;
    while (!stop_) {
        try {
            if (!conn || !conn->Healthy()) {
                conn = std::make_unique<sn::pg::Connection>(dsn_, std::chrono::milliseconds(30'000));
            }
            sn::pg::Transaction tx(*conn);
            const int events = MessageStore::Sweep(*conn, timeout_);
            tx.Commit();
            if (events > 0) {
                republished_.Add(static_cast<std::uint64_t>(events));
                sn::log::Info("re-published events of stuck sagas", {{"events", events}});
            }
            for (const auto& [state, count] : MessageStore::InFlight(*conn)) {
                metrics_.GetGauge("saga_messages_in_flight", "Messages in a PENDING_* state.", {{"state", state}})
                    .Set(static_cast<double>(count));
            }
        } catch (const std::exception& e) {
            sn::log::Warn("sweeper cycle failed", {{"error", e.what()}});
        }
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, interval_, [this] { return stop_.load(); });
    }
}

}  // namespace dialogs
