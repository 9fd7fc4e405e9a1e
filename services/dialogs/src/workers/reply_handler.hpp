#pragma once

#include "common/metrics.hpp"
#include "saga/consumer.hpp"

namespace dialogs {

/// Applies counters' replies from `unreadMessagesCounted`: moves messages on, compensates a
/// rejected step, and observes the saga's end-to-end latency, a batch at a time. Malformed replies
/// are poison.
[[nodiscard]] sn::saga::BatchHandler MakeReplyHandler(sn::metrics::Registry& metrics);

}  // namespace dialogs
