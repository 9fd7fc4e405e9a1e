#include "amqp/consumer.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>
#include <set>
#include <stdexcept>

#include "amqp/publisher.hpp"
#include "live_test_support.hpp"

namespace sn::amqp {
namespace {

using namespace std::chrono_literals;
using testing::BrokerOptions;
using testing::UniqueName;
using testing::WaitFor;

/// A work queue bound to its own exchange with "#".
struct Fixture {
    std::string exchange = UniqueName("events");
    std::string queue = UniqueName("work");

    [[nodiscard]] Topology Plain(bool quorum = false) const {
        return Topology{.exchanges = {{.name = exchange}},
                        .queues = {{.name = queue, .quorum = quorum}},
                        .bindings = {{.queue = queue, .exchange = exchange, .routing_key = "#"}}};
    }

    [[nodiscard]] std::vector<OutgoingMessage> Events(int count, std::string_view body = "{}") const {
        std::vector<OutgoingMessage> events;
        for (int i = 0; i < count; ++i) {
            events.push_back(OutgoingMessage{.exchange = exchange,
                                             .routing_key = "k",
                                             .message_id = ids::NewUuid(),
                                             .correlation_id = ids::NewUuid(),
                                             .body = std::string(body)});
        }
        return events;
    }
};

void PublishAll(Publisher& publisher, const std::vector<OutgoingMessage>& events) {
    const std::vector<bool> confirmed = publisher.PublishBatch(events, 5s);
    ASSERT_EQ(std::count(confirmed.begin(), confirmed.end(), true), static_cast<long>(events.size()));
}

TEST(Consumer, RejectedMessageIsDeadLettered) {
    const Fixture fixture;
    const Topology topology = WithDeadLetter(fixture.Plain(/*quorum=*/true), fixture.queue);
    const testing::TopologyCleanup cleanup(topology);
    const std::string dead_queue = DeadLetterQueueName(fixture.queue);

    Consumer consumer(BrokerOptions(), ConsumerOptions{.queue = fixture.queue, .topology = topology},
                      [](std::span<const Delivery> batch) {
                          std::vector<Outcome> outcomes;
                          for (const Delivery& delivery : batch) {
                              outcomes.push_back(delivery.body == "poison" ? Outcome::kReject : Outcome::kAck);
                          }
                          return outcomes;
                      });
    ASSERT_TRUE(WaitFor([&] { return consumer.Consuming(); }));
    Publisher publisher(BrokerOptions());
    auto events = fixture.Events(3);
    events[1].body = "poison";
    PublishAll(publisher, events);

    ASSERT_TRUE(
        WaitFor([&] { return consumer.Counters().acked.load() == 2 && consumer.Counters().rejected.load() == 1; }));
    ASSERT_TRUE(WaitFor([&] { return CountMessages(BrokerOptions(), dead_queue) == 1; }));

    std::mutex mutex;
    std::vector<Delivery> parked;
    Consumer reader(BrokerOptions(), ConsumerOptions{.queue = dead_queue}, [&](std::span<const Delivery> batch) {
        const std::lock_guard lock(mutex);
        parked.insert(parked.end(), batch.begin(), batch.end());
        return std::vector<Outcome>(batch.size(), Outcome::kAck);
    });
    ASSERT_TRUE(WaitFor([&] { return reader.Counters().acked.load() == 1; }));
    const std::lock_guard lock(mutex);
    ASSERT_EQ(parked.size(), 1u);
    EXPECT_EQ(parked[0].message_id, events[1].message_id);
    EXPECT_EQ(parked[0].body, "poison");
    EXPECT_EQ(CountMessages(BrokerOptions(), fixture.queue), 0u);
}

TEST(Consumer, ThrowingHandlerGetsBatchRedelivered) {
    const Fixture fixture;
    const Topology topology = fixture.Plain();
    const testing::TopologyCleanup cleanup(topology);
    Publisher publisher(BrokerOptions(), topology);
    const auto events = fixture.Events(10);
    PublishAll(publisher, events);  // all queued before consuming, so the first batch holds them all

    std::mutex mutex;
    std::set<std::string> failed_ids;
    std::map<std::string, bool> processed;  // message_id -> redelivered
    bool failed_once = false;
    Consumer consumer(BrokerOptions(), ConsumerOptions{.queue = fixture.queue, .topology = topology},
                      [&](std::span<const Delivery> batch) {
                          const std::lock_guard lock(mutex);
                          if (!failed_once) {
                              failed_once = true;
                              for (const Delivery& delivery : batch) {
                                  failed_ids.insert(delivery.message_id);
                              }
                              throw std::runtime_error("database is down");
                          }
                          for (const Delivery& delivery : batch) {
                              processed.emplace(delivery.message_id, delivery.redelivered);
                          }
                          return std::vector<Outcome>(batch.size(), Outcome::kAck);
                      });
    ASSERT_TRUE(WaitFor([&] { return consumer.Counters().acked.load() == 10; }));
    const std::lock_guard lock(mutex);
    ASSERT_FALSE(failed_ids.empty());
    EXPECT_EQ(consumer.Counters().requeued.load(), failed_ids.size());
    EXPECT_EQ(processed.size(), 10u);
    for (const std::string& id : failed_ids) {
        ASSERT_TRUE(processed.contains(id));
        EXPECT_TRUE(processed.at(id)) << "a requeued delivery comes back flagged redelivered";
    }
}

/// Publishes `events` to the fixture's queue before consuming it, so that they are all waiting,
/// then consumes them with `options` and returns the size of each batch the handler got. The
/// linger is long, so that a batch ends at one of its limits rather than at a gap in arrivals.
std::vector<std::size_t> BatchSizes(const Fixture& fixture, ConsumerOptions options,
                                    const std::vector<OutgoingMessage>& events) {
    const Topology topology = fixture.Plain();
    const testing::TopologyCleanup cleanup(topology);
    Publisher publisher(BrokerOptions(), topology);
    PublishAll(publisher, events);
    std::mutex mutex;
    std::vector<std::size_t> sizes;
    options.queue = fixture.queue;
    options.topology = topology;
    options.batch_linger = 500ms;
    Consumer consumer(BrokerOptions(), options, [&](std::span<const Delivery> batch) {
        const std::lock_guard lock(mutex);
        sizes.push_back(batch.size());
        return std::vector<Outcome>(batch.size(), Outcome::kAck);
    });
    EXPECT_TRUE(WaitFor([&] { return consumer.Counters().acked.load() == events.size(); }));
    consumer.Stop();
    return sizes;
}

TEST(Consumer, BatchesStopAtTheirCount) {
    const Fixture fixture;
    const auto sizes = BatchSizes(fixture, ConsumerOptions{.max_batch = 4}, fixture.Events(10));
    EXPECT_EQ(sizes, (std::vector<std::size_t>{4, 4, 2}));
}

TEST(Consumer, BatchesStopOnceTheirBodiesReachTheByteLimit) {
    const Fixture fixture;
    // 100 KB bodies, 250 KB a batch: the third body takes a batch over the limit and ends it.
    const auto sizes = BatchSizes(fixture, ConsumerOptions{.max_batch = 100, .max_batch_bytes = 250'000},
                                  fixture.Events(10, std::string(100'000, 'x')));
    EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 3, 1}));
}

TEST(Consumer, SurvivesForcedConnectionClose) {
    const std::string ctl = testing::RabbitmqCtl();
    if (ctl.empty()) {
        GTEST_SKIP() << "set AMQP_CTL to a rabbitmqctl command line for the test broker";
    }
    const Fixture fixture;
    const Topology topology = fixture.Plain(/*quorum=*/true);
    const testing::TopologyCleanup cleanup(topology);

    std::mutex mutex;
    std::set<std::string> seen;
    Consumer consumer(BrokerOptions(), ConsumerOptions{.queue = fixture.queue, .topology = topology},
                      [&](std::span<const Delivery> batch) {
                          const std::lock_guard lock(mutex);
                          for (const Delivery& delivery : batch) {
                              seen.insert(delivery.message_id);
                          }
                          return std::vector<Outcome>(batch.size(), Outcome::kAck);
                      });
    const auto seen_count = [&] {
        const std::lock_guard lock(mutex);
        return seen.size();
    };
    ASSERT_TRUE(WaitFor([&] { return consumer.Consuming(); }));
    Publisher publisher(BrokerOptions());
    PublishAll(publisher, fixture.Events(5));
    ASSERT_TRUE(WaitFor([&] { return seen_count() == 5; }));

    ASSERT_EQ(std::system((ctl + " close_all_connections test >/dev/null 2>&1").c_str()), 0) << ctl;
    ASSERT_TRUE(WaitFor([&] { return consumer.Counters().reconnects.load() >= 1 && consumer.Consuming(); }));

    // The publisher's connection was closed too: it notices and reconnects without failing the batch.
    PublishAll(publisher, fixture.Events(5));
    ASSERT_TRUE(WaitFor([&] { return seen_count() == 10; }));
}

TEST(Consumer, StopReturnsPromptlyWhenIdle) {
    const Fixture fixture;
    const Topology topology = fixture.Plain();
    const testing::TopologyCleanup cleanup(topology);
    Consumer consumer(
        BrokerOptions(), ConsumerOptions{.queue = fixture.queue, .topology = topology},
        [](std::span<const Delivery> batch) { return std::vector<Outcome>(batch.size(), Outcome::kAck); });
    ASSERT_TRUE(WaitFor([&] { return consumer.Consuming(); }));
    std::this_thread::sleep_for(300ms);

    const auto started = std::chrono::steady_clock::now();
    consumer.Stop();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
    EXPECT_FALSE(consumer.Consuming());
    consumer.Stop();  // idempotent
}

TEST(Consumer, StopReturnsPromptlyWhileBrokerUnreachable) {
    ConnectionOptions unreachable = BrokerOptions();
    unreachable.addresses = {{"127.0.0.1", 1}};  // nothing listens: connection refused, then backoff
    Consumer consumer(unreachable, ConsumerOptions{.queue = "never"}, [](std::span<const Delivery> batch) {
        return std::vector<Outcome>(batch.size(), Outcome::kAck);
    });
    std::this_thread::sleep_for(700ms);  // into the third backoff (200, 400, 800 ms)

    const auto started = std::chrono::steady_clock::now();
    consumer.Stop();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
    EXPECT_FALSE(consumer.Consuming());
}

}  // namespace
}  // namespace sn::amqp
