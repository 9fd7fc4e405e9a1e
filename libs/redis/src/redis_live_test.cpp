// Needs a live Redis: REDIS_URL (default redis://127.0.0.1:56379, the stack's).
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdlib>

#include "common/ids.hpp"
#include "redis/pool.hpp"

namespace sn::redis {
namespace {

Options LiveOptions() {
    const char* url = std::getenv("REDIS_URL");
    return ParseUrl(url != nullptr ? url : "redis://127.0.0.1:56379");
}

TEST(RedisLive, CommandsAndPipeline) {
    Connection conn(LiveOptions());
    const auto key = "test:" + ids::NewUuid();
    EXPECT_EQ(conn.Run({"SET", key, "v", "EX", "60"}).str, "OK");
    EXPECT_EQ(conn.Run({"GET", key}).str, "v");
    const auto replies = conn.Pipeline({{"INCR", key + ":n"},
                                        {"INCR", key + ":n"},
                                        {"GET", key + ":missing"},
                                        {"DEL", key, key + ":n"},
                                        {"NOSUCHCOMMAND"}});
    ASSERT_EQ(replies.size(), 5U);
    EXPECT_EQ(replies[0].integer, 1);
    EXPECT_EQ(replies[1].integer, 2);
    EXPECT_TRUE(replies[2].IsNil());
    EXPECT_EQ(replies[3].integer, 2);
    EXPECT_TRUE(replies[4].IsError());
    EXPECT_THROW((void)Checked(replies[4]), std::runtime_error);
}

TEST(RedisLive, PoolRunsOffTheIoThread) {
    boost::asio::io_context io;
    Pool pool(LiveOptions(), 2);
    auto done = boost::asio::co_spawn(io, pool.Ping(), boost::asio::use_future);
    io.run();
    EXPECT_TRUE(done.get());
}

}  // namespace
}  // namespace sn::redis
