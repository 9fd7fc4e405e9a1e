#include "amqp/connection_options.hpp"
#include "app/runtime.hpp"
#include "handlers/counters.hpp"
#include "saga/consumer.hpp"
#include "saga/events.hpp"
#include "saga/outbox.hpp"
#include "workers/request_handler.hpp"

int main() {
    return sn::app::Run("counters", SN_SAGA_MIGRATIONS_DIR ":" SN_MIGRATIONS_DIR, [](sn::app::Runtime& rt) {
        auto& env = rt.env;
        const auto broker = sn::amqp::ParseUrl(env.String("AMQP_URL", "amqp://guest:guest@127.0.0.1:55672/"));
        sn::saga::RelayOptions relay;
        relay.batch = static_cast<std::size_t>(env.Int("OUTBOX_BATCH", 500, 1, 10'000));
        sn::amqp::ConsumerOptions consumer;
        consumer.queue = std::string(sn::saga::kCountersQueue);
        consumer.prefetch = static_cast<std::uint16_t>(env.Int("CONSUMER_PREFETCH", 500, 1, 65'535));
        consumer.max_batch = static_cast<std::size_t>(env.Int("CONSUMER_BATCH", 200, 1, 10'000));
        consumer.topology = sn::saga::Topology();

        counters::AddCounterRoutes(rt.router, rt.db);
        auto& outbox = rt.Make<sn::saga::OutboxRelay>(rt.base.pg_dsn, broker, sn::saga::Topology(), relay, rt.metrics);
        auto& requests = rt.Make<sn::saga::TransactionalConsumer>(rt.base.pg_dsn, broker, consumer,
                                                                  counters::MakeRequestHandler(rt.metrics), rt.metrics);
        rt.AddReadinessCheck([&requests]() -> boost::asio::awaitable<bool> { co_return requests.Consuming(); });
        rt.OnStop([&outbox, &requests] {
            requests.Stop();
            outbox.Stop();
        });
    });
}
