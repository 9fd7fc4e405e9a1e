#include "amqp/publisher.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "amqp/consumer.hpp"
#include "live_test_support.hpp"

namespace sn::amqp {
namespace {

using namespace std::chrono_literals;
using testing::BrokerOptions;
using testing::UniqueName;
using testing::WaitFor;

[[nodiscard]] OutgoingMessage Event(std::string exchange, std::string routing_key, std::string body) {
    return OutgoingMessage{.exchange = std::move(exchange),
                           .routing_key = std::move(routing_key),
                           .message_id = ids::NewUuid(),
                           .correlation_id = ids::NewUuid(),
                           .request_id = ids::NewRequestId(),
                           .body = std::move(body)};
}

TEST(Publisher, SkipsClusterNodesThatRefuse) {
    const std::string exchange = UniqueName("events");
    const std::string queue = UniqueName("work");
    const Topology topology{.exchanges = {{.name = exchange}},
                            .queues = {{.name = queue}},
                            .bindings = {{.queue = queue, .exchange = exchange, .routing_key = "k"}}};
    const testing::TopologyCleanup cleanup(topology);
    ConnectionOptions options = BrokerOptions();
    const Address live = options.addresses.front();
    // Every rotation of the list meets a dead node before the live one or after it.
    options.addresses = {{"127.0.0.1", 1}, live, {"127.0.0.1", 2}};
    const std::vector<OutgoingMessage> one{Event(exchange, "k", "{}")};
    for (int i = 0; i < 3; ++i) {
        Publisher publisher(options, topology);
        const std::vector<bool> confirmed = publisher.PublishBatch(one, 10s);
        EXPECT_EQ(confirmed, std::vector<bool>{true}) << "attempt " << i;
    }
    options.addresses = {{"127.0.0.1", 1}, {"127.0.0.1", 2}};
    Publisher nowhere(options, topology);
    EXPECT_THROW((void)nowhere.PublishBatch(one, 2s), AmqpError);
}

TEST(Publisher, BatchOfThousandConfirmedAndConsumedIntact) {
    const std::string exchange = UniqueName("events");
    const std::string queue = UniqueName("work");
    const Topology topology{.exchanges = {{.name = exchange}},
                            .queues = {{.name = queue}},
                            .bindings = {{.queue = queue, .exchange = exchange, .routing_key = "a.*"}}};
    const testing::TopologyCleanup cleanup(topology);

    std::vector<OutgoingMessage> messages;
    for (int i = 0; i < 1000; ++i) {
        messages.push_back(Event(exchange, "a." + std::to_string(i), R"({"i":)" + std::to_string(i) + "}"));
    }
    Publisher publisher(BrokerOptions(), topology);
    const std::vector<bool> confirmed = publisher.PublishBatch(messages, 10s);
    ASSERT_EQ(confirmed.size(), messages.size());
    EXPECT_EQ(std::count(confirmed.begin(), confirmed.end(), true), 1000);

    std::mutex mutex;
    std::map<std::string, Delivery> received;
    std::size_t largest_batch = 0;
    Consumer consumer(BrokerOptions(), ConsumerOptions{.queue = queue, .prefetch = 300, .max_batch = 100},
                      [&](std::span<const Delivery> batch) {
                          const std::lock_guard lock(mutex);
                          largest_batch = std::max(largest_batch, batch.size());
                          for (const Delivery& delivery : batch) {
                              received.emplace(delivery.message_id, delivery);
                          }
                          return std::vector<Outcome>(batch.size(), Outcome::kAck);
                      });
    ASSERT_TRUE(WaitFor([&] { return consumer.Counters().acked.load() >= 1000; }));
    consumer.Stop();

    const std::lock_guard lock(mutex);
    ASSERT_EQ(received.size(), 1000u);
    for (const OutgoingMessage& message : messages) {
        const auto found = received.find(message.message_id);
        ASSERT_NE(found, received.end());
        const Delivery& delivery = found->second;
        EXPECT_EQ(delivery.correlation_id, message.correlation_id);
        EXPECT_EQ(delivery.request_id, message.request_id);
        EXPECT_EQ(delivery.routing_key, message.routing_key);
        EXPECT_EQ(delivery.exchange, exchange);
        EXPECT_EQ(delivery.content_type, "application/json");
        EXPECT_EQ(delivery.body, message.body);
        EXPECT_FALSE(delivery.redelivered);
    }
    EXPECT_LE(largest_batch, 100u);
    EXPECT_GT(largest_batch, 1u) << "deliveries already buffered should be batched";
    EXPECT_EQ(consumer.Counters().consumed.load(), 1000u);
    EXPECT_EQ(CountMessages(BrokerOptions(), queue), 0u);
}

TEST(Publisher, UnroutableMessageIsNotDelivered) {
    const std::string exchange = UniqueName("events");
    const std::string queue = UniqueName("work");
    const std::string lonely = UniqueName("nobody-listens");
    const Topology topology{.exchanges = {{.name = exchange}, {.name = lonely, .type = "fanout"}},
                            .queues = {{.name = queue}},
                            .bindings = {{.queue = queue, .exchange = exchange, .routing_key = "routed"}}};
    const testing::TopologyCleanup cleanup(topology);
    Publisher publisher(BrokerOptions());
    publisher.Declare(topology);

    EXPECT_EQ(publisher.PublishBatch(std::vector{Event(lonely, "", "{}")}, 5s), std::vector<bool>{false});
    // Same content twice: each return must be matched to its own message.
    const OutgoingMessage lost = Event(exchange, "lost", "{}");
    const std::vector mixed{Event(exchange, "routed", "{}"), lost, Event(exchange, "routed", "{}"), lost};
    EXPECT_EQ(publisher.PublishBatch(mixed, 5s), (std::vector<bool>{true, false, true, false}));
    // The stream is still in step after the returns.
    EXPECT_EQ(publisher.PublishBatch(std::vector{Event(exchange, "routed", "{}")}, 5s), std::vector<bool>{true});
    EXPECT_EQ(CountMessages(BrokerOptions(), queue), 3u);

    // Not mandatory: the broker drops it without a return, and says so with a plain ack.
    OutgoingMessage hint = lost;
    hint.mandatory = false;
    EXPECT_EQ(publisher.PublishBatch(std::vector{hint, Event(exchange, "routed", "{}")}, 5s),
              (std::vector<bool>{true, true}));
    EXPECT_EQ(CountMessages(BrokerOptions(), queue), 4u);
}

TEST(Publisher, MissingExchangeThrowsThenRecovers) {
    const std::string exchange = UniqueName("events");
    const std::string queue = UniqueName("work");
    const Topology topology{.exchanges = {{.name = exchange}},
                            .queues = {{.name = queue}},
                            .bindings = {{.queue = queue, .exchange = exchange, .routing_key = "#"}}};
    const testing::TopologyCleanup cleanup(topology);
    Publisher publisher(BrokerOptions(), topology);

    try {
        (void)publisher.PublishBatch(std::vector{Event(UniqueName("missing"), "k", "{}")}, 5s);
        FAIL() << "publishing to a missing exchange must throw";
    } catch (const AmqpError& error) {
        EXPECT_NE(std::string(error.what()).find("NOT_FOUND"), std::string::npos) << error.what();
    }
    EXPECT_EQ(publisher.PublishBatch(std::vector{Event(exchange, "k", "{}")}, 5s), std::vector<bool>{true});
}

TEST(Publisher, DeclareConflictCarriesBrokerReply) {
    const std::string queue = UniqueName("work");
    const Topology classic{.queues = {{.name = queue}}};
    const testing::TopologyCleanup cleanup(classic);
    DeclareTopology(BrokerOptions(), classic);

    Publisher publisher(BrokerOptions());
    try {
        publisher.Declare(Topology{.queues = {{.name = queue, .quorum = true}}});
        FAIL() << "redeclaring with other arguments must throw";
    } catch (const AmqpError& error) {
        EXPECT_NE(std::string(error.what()).find("PRECONDITION_FAILED"), std::string::npos) << error.what();
    }
    // The refused declaration is not remembered, so the publisher still (re)connects.
    publisher.Declare(classic);
}

TEST(Publisher, IdleBeyondHeartbeatReconnectsTransparently) {
    const std::string exchange = UniqueName("events");
    const std::string queue = UniqueName("work");
    const Topology topology{.exchanges = {{.name = exchange}},
                            .queues = {{.name = queue}},
                            .bindings = {{.queue = queue, .exchange = exchange, .routing_key = "#"}}};
    const testing::TopologyCleanup cleanup(topology);
    ConnectionOptions options = BrokerOptions();
    options.heartbeat = 1s;  // the broker gives up on a silent client after about two intervals
    Publisher publisher(options, topology);
    EXPECT_EQ(publisher.PublishBatch(std::vector{Event(exchange, "k", "{}")}, 5s), std::vector<bool>{true});

    std::this_thread::sleep_for(3500ms);
    EXPECT_EQ(publisher.PublishBatch(std::vector{Event(exchange, "k", "{}")}, 5s), std::vector<bool>{true});
    EXPECT_EQ(CountMessages(BrokerOptions(), queue), 2u);
}

}  // namespace
}  // namespace sn::amqp
