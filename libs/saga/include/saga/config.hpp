#pragma once

#include <string_view>

#include "amqp/connection_options.hpp"
#include "amqp/consumer.hpp"
#include "common/config.hpp"
#include "saga/consumer.hpp"
#include "saga/outbox.hpp"

namespace sn::saga {

/// What a service taking part in the saga reads from its environment: the broker (AMQP_URL), its
/// outbox relay (OUTBOX_BATCH, OUTBOX_BATCH_BYTES) and its consumer of `queue`
/// (CONSUMER_PREFETCH, CONSUMER_BATCH, CONSUMER_BATCH_BYTES, CONSUMER_LINGER_MS).
struct Config {
    amqp::ConnectionOptions broker;
    RelayOptions relay;
    amqp::ConsumerOptions consumer;
};

[[nodiscard]] Config ReadConfig(config::EnvReader& env, std::string_view queue);
/// The broker (AMQP_URL) alone, for a service with an outbox but no saga consumer (backend).
[[nodiscard]] amqp::ConnectionOptions ReadBroker(config::EnvReader& env);
/// The outbox relay's settings alone (OUTBOX_BATCH, OUTBOX_BATCH_BYTES).
[[nodiscard]] RelayOptions ReadRelayOptions(config::EnvReader& env);
/// How long an inbox remembers events (INBOX_RETENTION_HOURS, INBOX_PRUNE_INTERVAL_MS), for a
/// service whose consumer keeps one (counters).
[[nodiscard]] inbox::Retention ReadInboxRetention(config::EnvReader& env);

}  // namespace sn::saga
