#include "saga/config.hpp"

#include "saga/events.hpp"

namespace sn::saga {

amqp::ConnectionOptions ReadBroker(config::EnvReader& env) {
    // No default: a broker's credentials are the deployment's, never a well-known pair.
    const auto url = env.String("AMQP_URL", "");
    if (url.empty()) {
        throw config::ConfigError("AMQP_URL is not set (amqp://user:password@host:port/vhost)");
    }
    return amqp::ParseUrl(url);
}

RelayOptions ReadRelayOptions(config::EnvReader& env) {
    RelayOptions relay;
    relay.batch = static_cast<std::size_t>(env.Int("OUTBOX_BATCH", static_cast<std::int64_t>(relay.batch), 1, 10'000));
    relay.batch_bytes = static_cast<std::size_t>(
        env.Int("OUTBOX_BATCH_BYTES", static_cast<std::int64_t>(relay.batch_bytes), 1, 1LL << 30));
    return relay;
}

inbox::Retention ReadInboxRetention(config::EnvReader& env) {
    inbox::Retention retention;
    retention.keep = std::chrono::hours(env.Int("INBOX_RETENTION_HOURS", retention.keep.count(), 1, 24 * 365 * 10));
    retention.prune_interval = env.Millis("INBOX_PRUNE_INTERVAL_MS", retention.prune_interval);
    return retention;
}

Config ReadConfig(config::EnvReader& env, std::string_view queue) {
    Config config{ReadBroker(env), ReadRelayOptions(env), {}};
    config.consumer.queue = std::string(queue);
    config.consumer.prefetch = static_cast<std::uint16_t>(env.Int("CONSUMER_PREFETCH", 500, 1, 65'535));
    config.consumer.max_batch = static_cast<std::size_t>(env.Int("CONSUMER_BATCH", 200, 1, 10'000));
    config.consumer.max_batch_bytes = static_cast<std::size_t>(
        env.Int("CONSUMER_BATCH_BYTES", static_cast<std::int64_t>(config.consumer.max_batch_bytes), 1, 1LL << 30));
    config.consumer.batch_linger = env.Millis("CONSUMER_LINGER_MS", config.consumer.batch_linger);
    config.consumer.topology = Topology(queue);
    return config;
}

}  // namespace sn::saga
