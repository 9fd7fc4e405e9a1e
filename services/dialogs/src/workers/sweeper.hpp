#pragma once

#include <chrono>

#include "common/metrics.hpp"
#include "pg/periodic_job.hpp"

namespace dialogs {

/// One sweep, for a pg::PeriodicJob: re-publishes the events of sagas stuck in a PENDING_* state
/// past `timeout`, with their original event ids (counters deduplicates), so that no message
/// waits forever, and keeps the per-state gauge of sagas in flight current. Any number of copies
/// may run.
[[nodiscard]] sn::pg::PeriodicJob::Job MakeSweep(std::chrono::milliseconds timeout, sn::metrics::Registry& metrics);

}  // namespace dialogs
