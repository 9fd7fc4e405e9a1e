#pragma once

#include "common/metrics.hpp"
#include "saga/consumer.hpp"

namespace counters {

/// Applies dialogs' count requests from `unreadMessages`, once each, replying on
/// `unreadMessagesCounted`, a batch at a time. Malformed requests and unknown actions are poison
/// (dead-lettered).
[[nodiscard]] sn::saga::BatchHandler MakeRequestHandler(sn::metrics::Registry& metrics);

}  // namespace counters
