#include "saga/events.hpp"

#include <gtest/gtest.h>

#include "common/ids.hpp"

namespace sn::saga {
namespace {

const std::string kA = "0190f3a4-1111-7000-8000-00000000000a";
const std::string kB = "0190f3a4-1111-7000-8000-00000000000b";

TEST(CountRequest, RoundTripsThroughJson) {
    const CountRequest request{ids::NewUuid(), Action::kDecrement, kA, kB, {ids::NewUuid(), ids::NewUuid()}};
    const auto parsed = ParseCountRequest(ToJson(request));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->event_id, request.event_id);
    EXPECT_EQ(parsed->action, Action::kDecrement);
    EXPECT_EQ(parsed->message_ids, request.message_ids);
}

TEST(CountReply, RoundTripsThroughJson) {
    const CountReply reply{ids::NewUuid(),   ids::NewUuid(), Action::kDecrement, Verdict::kRejected, kA, kB,
                           {ids::NewUuid()}, "below zero"};
    const auto parsed = ParseCountReply(ToJson(reply));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->in_reply_to, reply.in_reply_to);
    EXPECT_EQ(parsed->verdict, Verdict::kRejected);
    EXPECT_EQ(parsed->reason, "below zero");
}

TEST(CountRequest, PoisonIsRecognised) {
    const auto id = ids::NewUuid();
    const std::string ok_ids = R"("message_ids":[")" + id + R"("])";
    const std::vector<std::string> poison = {
        "",
        "not json",
        "[]",
        R"({"event_id":")" + id + R"(","action":"explode","author_id":")" + kA + R"(","recipient_id":")" + kB +
            R"(",)" + ok_ids + "}",
        R"({"event_id":"nope","action":"increment","author_id":")" + kA + R"(","recipient_id":")" + kB + R"(",)" +
            ok_ids + "}",
        R"({"event_id":")" + id + R"(","action":"increment","author_id":")" + kA + R"(","recipient_id":")" + kB +
            R"(","message_ids":[]})",
        R"({"event_id":")" + id + R"(","action":"increment","author_id":")" + kA + R"(","recipient_id":")" + kA +
            R"(",)" + ok_ids + "}",
        R"({"event_id":")" + id + R"(","action":"increment","author_id":")" + kA + R"(","recipient_id":")" + kB +
            R"(","message_ids":[1]})",
    };
    for (const auto& body : poison) {
        EXPECT_FALSE(ParseCountRequest(body)) << body;
    }
    EXPECT_TRUE(ParseCountRequest(R"({"event_id":")" + id + R"(","action":"increment","author_id":")" + kA +
                                  R"(","recipient_id":")" + kB + R"(",)" + ok_ids + "}"));
}

TEST(Topology, EachSideDeclaresBothExchangesAndOnlyItsOwnQueues) {
    const auto topology = Topology(kCountersQueue);
    EXPECT_EQ(topology.exchanges.size(), 3U);  // two saga exchanges, its dead-letter exchange
    ASSERT_EQ(topology.queues.size(), 2U);     // its work queue and its dead-letter queue
    for (const auto& queue : topology.queues) {
        EXPECT_EQ(queue.name.rfind(kCountersQueue, 0), 0U) << queue.name;
    }
    EXPECT_EQ(topology.bindings.front().exchange, kUnreadMessages);
    EXPECT_EQ(Topology(kDialogsQueue).bindings.front().exchange, kUnreadMessagesCounted);
    EXPECT_THROW((void)Topology("elsewhere"), std::invalid_argument);
    EXPECT_EQ(RoutingKey(kA, kB), kA + "." + kB);
}

}  // namespace
}  // namespace sn::saga
