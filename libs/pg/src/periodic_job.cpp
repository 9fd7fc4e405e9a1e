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
      thread_([this](BackgroundThread& thread) { Run(thread); }) {}

void PeriodicJob::Run(BackgroundThread& thread) noexcept {
    std::unique_ptr<Connection> conn;
    while (!thread.Stopping()) {
        try {
            if (!conn || !conn->Healthy()) {
                conn = std::make_unique<Connection>(dsn_, statement_timeout_);
            }
            job_(*conn);
        } catch (const std::exception& e) {
            log::Warn("periodic job failed", {{"job", name_}, {"error", e.what()}});
        }
        thread.Pause(interval_);
    }
}

}  // namespace sn::pg
