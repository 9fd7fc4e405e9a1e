#include "common/ids.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

namespace sn::ids {
namespace {

TEST(Uuid, NewIsCanonicalVersion7AndUnique) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto id = NewUuid();
        ASSERT_TRUE(IsUuid(id)) << id;
        EXPECT_EQ(id[14], '7');
        EXPECT_TRUE(seen.insert(id).second);
    }
}

TEST(Uuid, NewIsOrderedByTimeAcrossMilliseconds) {
    const auto first = NewUuid();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_LT(first, NewUuid());
}

TEST(Uuid, NewIsStrictlyIncreasingWithinAMillisecond) {
    // Thousands per millisecond: random bits alone would order about half of them wrongly.
    auto previous = NewUuid();
    for (int i = 0; i < 100'000; ++i) {
        auto next = NewUuid();
        ASSERT_LT(previous, next) << "after " << i;
        ASSERT_EQ(next[14], '7');
        previous = std::move(next);
    }
}

TEST(Uuid, NewIsStrictlyIncreasingOnEveryThread) {
    std::vector<std::vector<std::string>> made(4);
    std::vector<std::thread> threads;
    for (auto& ids : made) {
        threads.emplace_back([&ids] {
            for (int i = 0; i < 20'000; ++i) {
                ids.push_back(NewUuid());
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    std::set<std::string> all;
    for (const auto& ids : made) {
        EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end(), std::less_equal<>()) &&
                    std::adjacent_find(ids.begin(), ids.end()) == ids.end());
        all.insert(ids.begin(), ids.end());
    }
    EXPECT_EQ(all.size(), 80'000U);
}

TEST(Uuid, RejectsMalformed) {
    EXPECT_FALSE(IsUuid(""));
    EXPECT_FALSE(IsUuid("e4d2e6b0-cde2-42c5-aac3-0b8316f21e5"));
    EXPECT_FALSE(IsUuid("e4d2e6b0-cde2-42c5-aac3-0b8316f21e5g"));
    EXPECT_FALSE(IsUuid("e4d2e6b0cde2-42c5-aac3-0b8316f21e58-"));
    EXPECT_TRUE(IsUuid("E4D2E6B0-CDE2-42C5-AAC3-0B8316F21E58"));
    EXPECT_EQ(NormalizeUuid("E4D2E6B0-CDE2-42C5-AAC3-0B8316F21E58"), "e4d2e6b0-cde2-42c5-aac3-0b8316f21e58");
}

TEST(RequestId, AcceptsSafeTextOnly) {
    EXPECT_TRUE(IsValidRequestId("abc-123_x.y"));
    EXPECT_FALSE(IsValidRequestId(""));
    EXPECT_FALSE(IsValidRequestId("a b"));
    EXPECT_FALSE(IsValidRequestId("a\r\nX-Evil: 1"));
    EXPECT_FALSE(IsValidRequestId(std::string(129, 'a')));
    EXPECT_EQ(NewRequestId().size(), 32U);
}

}  // namespace
}  // namespace sn::ids
