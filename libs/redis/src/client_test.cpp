#include <gtest/gtest.h>

#include "redis/client.hpp"

#include <vector>

namespace sn::redis {
namespace {

TEST(ParseUrl, HostPortDb) {
    const auto options = ParseUrl("redis://127.0.0.1:56379/2");
    EXPECT_EQ(options.host, "127.0.0.1");
    EXPECT_EQ(options.port, 56379);
    EXPECT_EQ(options.db, 2);
}

TEST(ParseUrl, Defaults) {
    const auto options = ParseUrl("redis://cache");
    EXPECT_EQ(options.host, "cache");
    EXPECT_EQ(options.port, 6379);
    EXPECT_EQ(options.db, 0);
}

TEST(ParseUrl, RejectsOtherSchemesAndBadPorts) {
    EXPECT_THROW((void)ParseUrl("http://x:1"), std::invalid_argument);
    EXPECT_THROW((void)ParseUrl("redis://x:0"), std::invalid_argument);
    EXPECT_THROW((void)ParseUrl("redis://x:70000"), std::invalid_argument);
    EXPECT_THROW((void)ParseUrl("redis://:1"), std::invalid_argument);
    EXPECT_THROW((void)ParseUrl("redis://x/abc"), std::invalid_argument);
}

TEST(ParseUrl, SentinelsAndMasterName) {
    const auto options = ParseUrl("redis-sentinel://10.0.0.1:26380,10.0.0.2/feed/3");
    EXPECT_EQ(options.sentinels, (std::vector<Address>{{"10.0.0.1", 26380}, {"10.0.0.2", 26379}}));
    EXPECT_EQ(options.master_name, "feed");
    EXPECT_EQ(options.db, 3);
    EXPECT_EQ(ParseUrl("redis-sentinel://s:1/m").db, 0);
}

TEST(ParseUrl, RejectsSentinelUrlsWithoutMasterOrHosts) {
    for (const char* url : {"redis-sentinel://s:1", "redis-sentinel://s:1/", "redis-sentinel://s:1,/m",
                            "redis-sentinel://:1/m", "redis-sentinel://s:0/m", "redis-sentinel://s/m/x"}) {
        EXPECT_THROW((void)ParseUrl(url), std::invalid_argument) << url;
    }
}

TEST(Connection, NoSentinelAnsweringIsAConnectionError) {
    Options options = ParseUrl("redis-sentinel://127.0.0.1:1,127.0.0.1:2/feed");
    options.connect_timeout = std::chrono::milliseconds(200);
    Connection conn(options);
    EXPECT_THROW((void)conn.Run({"PING"}), ConnectionError);
}

TEST(Connection, UnreachableServerIsAConnectionErrorWithinTheDeadline) {
    Options options;
    options.port = 1;  // nothing listens there
    options.connect_timeout = std::chrono::milliseconds(200);
    Connection conn(options);
    EXPECT_THROW((void)conn.Run({"PING"}), ConnectionError);
}

}  // namespace
}  // namespace sn::redis
