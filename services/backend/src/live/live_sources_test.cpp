#include "live/live_sources.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "saga/events.hpp"

namespace backend {
namespace {

constexpr auto kA = "11111111-1111-4111-8111-111111111111";
constexpr auto kB = "22222222-2222-4222-8222-222222222222";
constexpr auto kM = "33333333-3333-4333-8333-333333333333";
constexpr auto kE = "44444444-4444-4444-8444-444444444444";
constexpr auto kF = "55555555-5555-4555-8555-555555555555";

boost::json::object Parsed(const DialogLiveEvent& event) { return boost::json::parse(event.text).as_object(); }

TEST(DialogLive, SendIsPendingUnreadForBothPeople) {
    const auto event =
        ToDialogLiveEvent(sn::saga::kUnreadMessages,
                          sn::saga::ToJson(sn::saga::CountRequest{kE, sn::saga::Action::kIncrement, kA, kB, {kM}}));
    ASSERT_TRUE(event);
    EXPECT_EQ(event->author_id, kA);
    EXPECT_EQ(event->recipient_id, kB);
    const auto json = Parsed(*event);
    EXPECT_EQ(json.at("event").as_string(), "sent");
    EXPECT_EQ(json.at("state").as_string(), "PENDING_UNREAD");
    EXPECT_EQ(json.at("message_ids").as_array().at(0).as_string(), kM);
}

TEST(DialogLive, RepliesGiveTheStateTheyLeadTo) {
    using sn::saga::Action;
    using sn::saga::Verdict;
    const auto state = [](Action action, Verdict verdict) {
        const auto event =
            ToDialogLiveEvent(sn::saga::kUnreadMessagesCounted,
                              sn::saga::ToJson(sn::saga::CountReply{kF, kE, action, verdict, kA, kB, {kM}, ""}));
        return event ? boost::json::serialize(Parsed(*event).at("state")) : std::string("none");
    };
    EXPECT_EQ(state(Action::kIncrement, Verdict::kCounted), "\"UNREAD\"");
    EXPECT_EQ(state(Action::kDecrement, Verdict::kCounted), "\"READ\"");
    EXPECT_EQ(state(Action::kIncrement, Verdict::kRejected), "null");
}

TEST(DialogLive, StrayOrMalformedEventsReachNobody) {
    EXPECT_FALSE(ToDialogLiveEvent("postPosted", "{}"));
    EXPECT_FALSE(ToDialogLiveEvent(sn::saga::kUnreadMessages, "not json"));
    EXPECT_FALSE(ToDialogLiveEvent(sn::saga::kUnreadMessagesCounted, R"({"event_id":"x"})"));
}

}  // namespace
}  // namespace backend
