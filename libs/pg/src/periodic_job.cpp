#include "pg/periodic_job.hpp"

#include <memory>

#include "common/log.hpp"

namespace sn::pg {

PeriodicJob::PeriodicJob(std::string name, std::string dsn, std::chrono::milliseconds interval,
                         std::chrono::milliseconds statement_timeout, Job job)
    : name_(std::move(name)),
      dsn_(std::move(dsn)),
      interval_(interval),
      statement_timeout_(statement_timeout),
      job_(std::move(job)),
      thread_([this] { Run(); }) {}

PeriodicJob::~PeriodicJob() { Stop(); }

void PeriodicJob::Stop() noexcept {
    {
        const std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
        thread_.join();
    }
}

void PeriodicJob::Run() noexcept {
    std::unique_ptr<Connection> conn;
    while (!stop_) {
        try {
            if (!conn || !conn->Healthy()) {
                conn = std::make_unique<Connection>(dsn_, statement_timeout_);
            }
            job_(*conn);
        } catch (const std::exception& e) {
            log::Warn("periodic job failed", {{"job", name_}, {"error", e.what()}});
        }
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, interval_, [this] { return stop_.load(); });
    }
}

}  // namespace sn::pg
