#include <gtest/gtest.h>

#include "redis/client.hpp"

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

TEST(Connection, UnreachableServerIsAConnectionErrorWithinTheDeadline) {
    Options options;
    options.port = 1;  // nothing listens there
    options.connect_timeout = std::chrono::milliseconds(200);
    Connection conn(options);
    EXPECT_THROW((void)conn.Run({"PING"}), ConnectionError);
}

}  // namespace
}  // namespace sn::redis
