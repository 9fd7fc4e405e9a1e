#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/background_thread.hpp"
#include "pg/connection.hpp"

namespace sn::pg {

/// Runs `job` at once and then every `interval`, on a thread and a connection of its own, until
/// Stop(): what a service does in the background against its database (re-publishing the events
/// of stuck sagas, forgetting old inbox entries). A run that throws is logged under `name` and the
/// next comes after the interval; a broken connection is opened again by the next run.
class PeriodicJob {
   public:
    using Job = std::function<void(Connection&)>;

    PeriodicJob(std::string name, std::string dsn, std::chrono::milliseconds interval,
                std::chrono::milliseconds statement_timeout, Job job);
    PeriodicJob(const PeriodicJob&) = delete;
    PeriodicJob& operator=(const PeriodicJob&) = delete;

    /// Lets a run in progress finish, then joins the thread. Idempotent.
    void Stop() noexcept { thread_.Stop(); }

   private:
    void Run(BackgroundThread& thread) noexcept;

    const std::string name_;
    const std::string dsn_;
    const std::chrono::milliseconds interval_;
    const std::chrono::milliseconds statement_timeout_;
    const Job job_;
    BackgroundThread thread_;  ///< last: starts once everything above exists
};

}  // namespace sn::pg
