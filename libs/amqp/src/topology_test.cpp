#include "amqp/topology.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace sn::amqp {
namespace {

TEST(WithDeadLetter, AddsParkingRouteForTheWorkQueue) {
    Topology topology{.exchanges = {{.name = "events", .type = "topic"}},
                      .queues = {{.name = "work", .quorum = true}},
                      .bindings = {{.queue = "work", .exchange = "events", .routing_key = "#"}}};
    const Topology result = WithDeadLetter(topology, "work");

    ASSERT_EQ(result.exchanges.size(), 2u);
    EXPECT_EQ(result.exchanges[1].name, "work.dlx");
    EXPECT_EQ(result.exchanges[1].type, "fanout");
    EXPECT_TRUE(result.exchanges[1].durable);

    ASSERT_EQ(result.queues.size(), 2u);
    EXPECT_EQ(result.queues[0].dead_letter_exchange, "work.dlx");
    EXPECT_EQ(result.queues[0].delivery_limit, kDefaultDeliveryLimit);
    EXPECT_EQ(result.queues[1].name, "work.dead");
    EXPECT_TRUE(result.queues[1].durable);
    EXPECT_TRUE(result.queues[1].quorum);  // replicated like the work queue
    EXPECT_FALSE(result.queues[1].dead_letter_exchange.has_value());
    EXPECT_FALSE(WithDeadLetter(Topology{.queues = {{.name = "classic"}}}, "classic").queues[1].quorum);

    ASSERT_EQ(result.bindings.size(), 2u);
    EXPECT_EQ(result.bindings[1].queue, "work.dead");
    EXPECT_EQ(result.bindings[1].exchange, "work.dlx");
}

TEST(WithDeadLetter, CustomLimitAndUnknownQueue) {
    const Topology topology{.queues = {{.name = "work"}}};
    EXPECT_EQ(WithDeadLetter(topology, "work", 9).queues[0].delivery_limit, 9);
    EXPECT_THROW((void)WithDeadLetter(topology, "other"), std::invalid_argument);
}

TEST(Merge, Appends) {
    const Topology merged = Merge(Topology{.queues = {{.name = "a"}}}, Topology{.queues = {{.name = "b"}}});
    ASSERT_EQ(merged.queues.size(), 2u);
    EXPECT_EQ(merged.queues[1].name, "b");
}

}  // namespace
}  // namespace sn::amqp
