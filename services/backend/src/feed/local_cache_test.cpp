#include "feed/local_cache.hpp"

#include <gtest/gtest.h>

namespace backend::feed {
namespace {

Post Body(const std::string& id, std::int64_t created_us) { return Post{id, "author", "text of " + id, created_us}; }

/// What feed::Read answers for the first `count` of these posts, bodies of [offset, count).
CachedFeed Answer(const std::vector<Post>& posts, std::size_t offset, std::size_t count,
                  std::vector<std::string> celebrities = {}) {
    CachedFeed feed;
    for (std::size_t i = 0; i < posts.size() && i < count; ++i) {
        feed.entries.push_back(Entry{posts[i].id, posts[i].created_us});
        if (i >= offset) {
            feed.bodies.push_back(posts[i]);
        }
    }
    feed.celebrities = std::move(celebrities);
    return feed;
}

std::vector<std::string> Ids(const std::vector<Post>& posts) {
    std::vector<std::string> ids;
    for (const auto& post : posts) {
        ids.push_back(post.id);
    }
    return ids;
}

const std::vector<Post> kPosts{Body("p3", 30), Body("p2", 20), Body("p1", 10)};

TEST(LocalCache, KeepsWhatRedisAnsweredAndAnswersTheSame) {
    sn::metrics::Registry metrics;
    LocalCache cache(1 << 20, metrics);
    cache.Up();
    EXPECT_FALSE(cache.Find("u", 0, 2));
    cache.Keep(cache.Begin(), "u", 2, Answer(kPosts, 0, 2, {"celebrity"}));
    const auto found = cache.Find("u", 0, 2);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->entries, (std::vector<Entry>{{"p3", 30}, {"p2", 20}}));
    EXPECT_EQ(Ids(found->bodies), (std::vector<std::string>{"p3", "p2"}));
    EXPECT_EQ(found->bodies[0].text, "text of p3");
    EXPECT_EQ(found->celebrities, std::vector<std::string>{"celebrity"});
    // A page inside what is kept; one past it is not known.
    const auto second = cache.Find("u", 1, 1);
    ASSERT_TRUE(second);
    EXPECT_EQ(Ids(second->bodies), std::vector<std::string>{"p2"});
    EXPECT_FALSE(cache.Find("u", 0, 3));
}

TEST(LocalCache, AFeedShorterThanAskedIsWhole) {
    sn::metrics::Registry metrics;
    LocalCache cache(1 << 20, metrics);
    cache.Up();
    cache.Keep(cache.Begin(), "u", 10, Answer(kPosts, 0, 10));
    const auto found = cache.Find("u", 0, 20);  // more than was asked: the feed has only three
    ASSERT_TRUE(found);
    EXPECT_EQ(found->entries.size(), 3U);
    const auto past = cache.Find("u", 5, 5);
    ASSERT_TRUE(past);
    EXPECT_TRUE(past->bodies.empty());
}

TEST(LocalCache, APageMissingABodyIsNotAnswered) {
    sn::metrics::Registry metrics;
    LocalCache cache(1 << 20, metrics);
    cache.Up();
    auto answer = Answer(kPosts, 0, 3);
    answer.bodies.erase(answer.bodies.begin() + 1);  // Redis had no body for p2
    cache.Keep(cache.Begin(), "u", 3, answer);
    EXPECT_FALSE(cache.Find("u", 0, 3));
    EXPECT_TRUE(cache.Find("u", 2, 1));  // p1 alone is there
}

TEST(LocalCache, ForgetsWhatRedisSaysChanged) {
    sn::metrics::Registry metrics;
    LocalCache cache(1 << 20, metrics);
    cache.Up();
    cache.Keep(cache.Begin(), "u", 3, Answer(kPosts, 0, 3));
    cache.Keep(cache.Begin(), "v", 3, Answer(kPosts, 0, 3));
    cache.Changed({"feed:u:generation"});
    EXPECT_FALSE(cache.Find("u", 0, 3));
    EXPECT_TRUE(cache.Find("v", 0, 3));
    cache.Changed({"post:p2", "unrelated:key"});
    EXPECT_FALSE(cache.Find("v", 0, 3));  // a body of the page is gone
    EXPECT_TRUE(cache.Find("v", 2, 1));
    cache.Changed({"feed:v"});
    EXPECT_FALSE(cache.Find("v", 2, 1));
    EXPECT_EQ(metrics.GetCounter("feed_local_cache_invalidations_total", "").Value(), 3U);  // not the unrelated key
}

TEST(LocalCache, DoesNotKeepAReadThatAChangeOvertook) {
    sn::metrics::Registry metrics;
    LocalCache cache(1 << 20, metrics);
    cache.Up();
    const auto stamp = cache.Begin();  // the read is sent...
    cache.Changed({"feed:u"});         // ...a write lands and is told before the answer comes
    cache.Keep(stamp, "u", 3, Answer(kPosts, 0, 3));
    EXPECT_FALSE(cache.Find("u", 0, 3));
    EXPECT_TRUE(cache.Find("u", 0, 0) == std::nullopt);
    // The bodies were not told changed: they are kept.
    cache.Keep(cache.Begin(), "u", 1, Answer(kPosts, 0, 1));
    EXPECT_TRUE(cache.Find("u", 0, 1));

    const auto before = cache.Begin();
    cache.ForgetPost("p1");  // this process's own change
    cache.Keep(before, "w", 3, Answer(kPosts, 0, 3));
    EXPECT_TRUE(cache.Find("w", 0, 2));   // the feed and two bodies were kept
    EXPECT_FALSE(cache.Find("w", 0, 3));  // p1's body was not
    const auto after = cache.Begin();
    cache.Keep(after, "w", 3, Answer(kPosts, 0, 3));
    EXPECT_TRUE(cache.Find("w", 0, 3));  // a read begun after the change is kept whole
}

TEST(LocalCache, KeepsNothingWhileTrackingIsDownAndNothingReadBeforeItCameUp) {
    sn::metrics::Registry metrics;
    LocalCache cache(1 << 20, metrics);
    const auto& up = metrics.GetGauge("feed_local_cache_up", "");
    cache.Keep(cache.Begin(), "u", 3, Answer(kPosts, 0, 3));  // not up yet
    EXPECT_FALSE(cache.Find("u", 0, 3));
    EXPECT_EQ(up.Value(), 0);
    const auto early = cache.Begin();
    cache.Up();
    cache.Keep(early, "u", 3, Answer(kPosts, 0, 3));  // read before the invalidations flowed
    EXPECT_FALSE(cache.Find("u", 0, 3));
    cache.Keep(cache.Begin(), "u", 3, Answer(kPosts, 0, 3));
    EXPECT_TRUE(cache.Find("u", 0, 3));

    EXPECT_EQ(up.Value(), 1);
    const auto during = cache.Begin();
    cache.Lost();
    EXPECT_EQ(up.Value(), 0);
    EXPECT_FALSE(cache.Find("u", 0, 3));  // forgotten
    cache.Keep(during, "u", 3, Answer(kPosts, 0, 3));
    cache.Keep(cache.Begin(), "u", 3, Answer(kPosts, 0, 3));
    EXPECT_FALSE(cache.Find("u", 0, 3));

    cache.Up();
    cache.Keep(cache.Begin(), "u", 3, Answer(kPosts, 0, 3));
    cache.Flushed();
    EXPECT_FALSE(cache.Find("u", 0, 3));
}

TEST(LocalCache, StaysWithinItsBytesDroppingTheLeastRecentlyRead) {
    // Room for a few small feeds of one entry (half the bytes) and their bodies (the other half).
    sn::metrics::Registry metrics;
    LocalCache cache(4096, metrics);
    cache.Up();
    const auto keep = [&](const std::string& user) {
        cache.Keep(cache.Begin(), user, 1, Answer({Body("post-of-" + user, 1)}, 0, 1));
    };
    std::size_t kept = 0;
    for (int i = 0; i < 100; ++i) {
        keep("user-" + std::to_string(i));
    }
    for (int i = 0; i < 100; ++i) {
        kept += cache.Find("user-" + std::to_string(i), 0, 1) ? 1 : 0;
    }
    EXPECT_GT(kept, 1U);
    EXPECT_LT(kept, 20U);
    EXPECT_TRUE(cache.Find("user-99", 0, 1));  // the newest stay
    EXPECT_FALSE(cache.Find("user-0", 0, 1));

    // Reads keep a feed at the front: user-98, read after each newcomer, outlives a hundred of
    // them; user-99, kept after it but not read again, does not.
    for (int i = 0; i < 100; ++i) {
        keep("newcomer-" + std::to_string(i));
        ASSERT_TRUE(cache.Find("user-98", 0, 1)) << "after " << i + 1 << " newcomers";
    }
    EXPECT_FALSE(cache.Find("user-99", 0, 1));
}

}  // namespace
}  // namespace backend::feed
