#pragma once

#include "common/metrics.hpp"
#include "saga/consumer.hpp"

namespace counters {

/// Applies dialogs' count requests from `unreadMessages`, once each, replying on
/// `unreadMessagesCounted`. Malformed requests and unknown actions are poison (dead-lettered).
[[nodiscard]] sn::saga::EventHandler MakeRequestHandler(sn::metrics::Registry& metrics);

}  // namespace counters
