#include "app/runtime.hpp"
#include "handlers/dialogs.hpp"
#include "saga/config.hpp"
#include "saga/consumer.hpp"
#include "saga/events.hpp"
#include "saga/outbox.hpp"
#include "workers/reply_handler.hpp"
#include "workers/sweeper.hpp"

int main() {
    return sn::app::Run("dialogs", SN_SAGA_MIGRATIONS_DIR ":" SN_MIGRATIONS_DIR, [](sn::app::Runtime& rt) {
        auto& env = rt.env;
        const bool mark_as_read = env.Bool("MARK_AS_READ_ON_LISTING", true);
        const auto saga = sn::saga::ReadConfig(env, sn::saga::kDialogsQueue);
        const auto sweep_interval = env.Millis("SWEEPER_INTERVAL_MS", std::chrono::milliseconds(5'000));
        const auto sweep_timeout = env.Millis("SWEEPER_TIMEOUT_MS", std::chrono::milliseconds(30'000));

        dialogs::MessageSender::Options sending;
        sending.writers =
            static_cast<std::size_t>(env.Int("SEND_WRITERS", static_cast<std::int64_t>(sending.writers), 1, 256));
        sending.max_batch =
            static_cast<std::size_t>(env.Int("SEND_BATCH", static_cast<std::int64_t>(sending.max_batch), 1, 1'000));

        auto& sender = rt.Make<dialogs::MessageSender>(rt.db, sending, dialogs::SendInBatches(rt.metrics));
        dialogs::AddDialogRoutes(rt.router, rt.db, sender, mark_as_read);
        auto& outbox = rt.Make<sn::saga::OutboxRelay>(
            rt.base.pg_dsn, saga.broker, sn::saga::Topology(sn::saga::kDialogsQueue), saga.relay, rt.metrics);
        auto& replies = rt.Make<sn::saga::TransactionalConsumer>(rt.base.pg_dsn, saga.broker, saga.consumer,
                                                                 dialogs::MakeReplyHandler(rt.metrics), rt.metrics);
        auto& sweeper =
            rt.Make<sn::pg::PeriodicJob>("sweeper", rt.base.pg_dsn, sweep_interval, std::chrono::milliseconds(30'000),
                                         dialogs::MakeSweep(sweep_timeout, rt.metrics));
        rt.AddReadinessCheck([&replies]() -> boost::asio::awaitable<bool> { co_return replies.Consuming(); });
        rt.OnStop([&outbox, &replies, &sweeper] {
            replies.Stop();
            sweeper.Stop();
            outbox.Stop();
        });
    });
}
