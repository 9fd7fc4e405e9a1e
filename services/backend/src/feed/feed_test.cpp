#include <gtest/gtest.h>

#include "feed/events.hpp"
#include "feed/feed_cache.hpp"

namespace backend::feed {
namespace {

TEST(MergeNewestFirst, InterleavesByTimeThenIdAndDropsDuplicates) {
    const std::vector<Entry> cached{{"c", 30}, {"b", 20}, {"a", 10}};
    const std::vector<Entry> celebrity{{"x", 25}, {"b", 20}, {"y", 20}, {"z", 5}};
    const auto page = MergeNewestFirst(cached, celebrity, 0, 10);
    const std::vector<Entry> expected{{"c", 30}, {"x", 25}, {"y", 20}, {"b", 20}, {"a", 10}, {"z", 5}};
    EXPECT_EQ(page, expected);
}

TEST(MergeNewestFirst, Pages) {
    const std::vector<Entry> cached{{"c", 30}, {"b", 20}, {"a", 10}};
    EXPECT_EQ(MergeNewestFirst(cached, {}, 1, 1), (std::vector<Entry>{{"b", 20}}));
    EXPECT_EQ(MergeNewestFirst(cached, {}, 2, 5), (std::vector<Entry>{{"a", 10}}));
    EXPECT_TRUE(MergeNewestFirst(cached, {}, 3, 5).empty());
}

TEST(Events, RoundTrip) {
    const Event post{.event_id = "11111111-1111-4111-8111-111111111111",
                     .kind = Kind::kPostDeleted,
                     .post_id = "22222222-2222-4222-8222-222222222222",
                     .author_id = "33333333-3333-4333-8333-333333333333"};
    const auto parsed = Parse(ToJson(post));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->kind, Kind::kPostDeleted);
    EXPECT_EQ(parsed->post_id, post.post_id);
    EXPECT_EQ(parsed->author_id, post.author_id);

    const Event follow{.event_id = "11111111-1111-4111-8111-111111111111",
                       .kind = Kind::kFriendAdded,
                       .author_id = "33333333-3333-4333-8333-333333333333",
                       .user_id = "44444444-4444-4444-8444-444444444444"};
    const auto again = Parse(ToJson(follow));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->kind, Kind::kFriendAdded);
    EXPECT_EQ(again->user_id, follow.user_id);
    EXPECT_EQ(again->author_id, follow.author_id);
}

TEST(Events, MalformedIsPoison) {
    EXPECT_FALSE(Parse("not json"));
    EXPECT_FALSE(Parse("[]"));
    EXPECT_FALSE(Parse(R"({"kind":"post.exploded","event_id":"11111111-1111-4111-8111-111111111111"})"));
    EXPECT_FALSE(Parse(R"({"kind":"post.created","event_id":"11111111-1111-4111-8111-111111111111",)"
                       R"("post_id":"nope","author_id":"33333333-3333-4333-8333-333333333333"})"));
}

TEST(Events, LiveMessageHasTheContractFields) {
    EXPECT_EQ(LiveMessage("p", "hi \"you\"", "a"), R"({"postId":"p","postText":"hi \"you\"","author_user_id":"a"})");
}

}  // namespace
}  // namespace backend::feed
