#pragma once

#include <string_view>

#include "amqp/connection_options.hpp"
#include "amqp/consumer.hpp"
#include "common/config.hpp"
#include "saga/outbox.hpp"

namespace sn::saga {

/// What a service taking part in the saga reads from its environment: the broker (AMQP_URL), its
/// outbox relay (OUTBOX_BATCH, OUTBOX_BATCH_BYTES) and its consumer of `queue`
/// (CONSUMER_PREFETCH, CONSUMER_BATCH, CONSUMER_LINGER_MS).
struct Config {
    amqp::ConnectionOptions broker;
    RelayOptions relay;
    amqp::ConsumerOptions consumer;
};

[[nodiscard]] Config ReadConfig(config::EnvReader& env, std::string_view queue);

}  // namespace sn::saga
