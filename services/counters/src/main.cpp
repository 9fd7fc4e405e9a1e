#include "app/runtime.hpp"
#include "handlers/counters.hpp"
#include "saga/config.hpp"
#include "saga/consumer.hpp"
#include "saga/events.hpp"
#include "saga/outbox.hpp"
#include "saga/reconcile.hpp"
#include "workers/request_handler.hpp"

int main() {
    return sn::app::Run("counters", SN_SAGA_MIGRATIONS_DIR ":" SN_MIGRATIONS_DIR, [](sn::app::Runtime& rt) {
        auto& env = rt.env;
        const auto saga = sn::saga::ReadConfig(env, sn::saga::kCountersQueue);
        const auto retention = sn::saga::ReadInboxRetention(env);

        counters::AddCounterRoutes(rt.router, rt.db);
        auto& outbox = rt.Make<sn::saga::OutboxRelay>(
            rt.base.pg_dsn, saga.broker, sn::saga::Topology(sn::saga::kCountersQueue), saga.relay, rt.metrics);
        auto& requests = rt.Make<sn::saga::TransactionalConsumer>(rt.base.pg_dsn, saga.broker, saga.consumer,
                                                                  counters::MakeRequestHandler(rt.metrics), rt.metrics);
        auto& pruner =
            rt.Make<sn::pg::PeriodicJob>("inbox pruner", rt.base.pg_dsn, retention.prune_interval,
                                         std::chrono::minutes(1), sn::saga::inbox::MakePruner(retention, rt.metrics));
        // Reconciliation runs here: counters owns the counters it repairs, and reads the dialogs'
        // messages read-only (RECONCILE_DIALOGS_DSN; empty: the job is off).
        const auto reconcile_dsn = env.String("RECONCILE_DIALOGS_DSN", "");
        const auto reconcile_interval = env.Millis("RECONCILE_INTERVAL_MS", std::chrono::minutes(5));
        sn::pg::PeriodicJob* reconciler = nullptr;
        if (!reconcile_dsn.empty()) {
            reconciler = &rt.Make<sn::pg::PeriodicJob>(
                "reconciliation", rt.base.pg_dsn, reconcile_interval, std::chrono::minutes(1),
                sn::saga::reconcile::MakeJob(reconcile_dsn, std::chrono::minutes(1), rt.metrics));
        }
        rt.AddReadinessCheck([&requests]() -> boost::asio::awaitable<bool> { co_return requests.Consuming(); });
        rt.OnStop([&outbox, &requests, &pruner, reconciler] {
            requests.Stop();
            pruner.Stop();
            if (reconciler != nullptr) {
                reconciler->Stop();
            }
            outbox.Stop();
        });
    });
}
