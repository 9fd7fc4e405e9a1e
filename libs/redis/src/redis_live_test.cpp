// Needs a live Redis: REDIS_URL (default redis://127.0.0.1:56379, the stack's).
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>

#include "common/ids.hpp"
#include "redis/pool.hpp"
#include "redis/script.hpp"
#include "redis/tracking.hpp"

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

TEST(RedisLive, ScriptsRunByTheirHashAndComeBackAfterAFlush) {
    Connection conn(LiveOptions());
    const Script script("return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}");
    EXPECT_EQ(conn.Run({"SCRIPT", "LOAD", "return {KEYS[1], ARGV[1], redis.call('INCR', KEYS[1])}"}).str,
              script.Sha1());
    const auto key = "test:" + ids::NewUuid();
    ASSERT_EQ(conn.Run({"SCRIPT", "FLUSH"}).str, "OK");  // as after a restart: Redis knows no script
    const auto first = script.Run(conn, {{key}, {"a"}});
    ASSERT_EQ(first.elements.size(), 3U) << first.str;
    EXPECT_EQ(first.elements[0].str, key);
    EXPECT_EQ(first.elements[1].str, "a");
    EXPECT_EQ(first.elements[2].integer, 1);
    EXPECT_EQ(conn.Run({"SCRIPT", "EXISTS", script.Sha1()}).elements.at(0).integer, 1);  // cached again

    ASSERT_EQ(conn.Run({"SCRIPT", "FLUSH"}).str, "OK");
    const auto many = script.RunMany(conn, {{{key}, {"b"}}, {{key}, {"c"}}, {{key}, {"d"}}});
    ASSERT_EQ(many.size(), 3U);
    for (std::size_t i = 0; i < many.size(); ++i) {
        ASSERT_EQ(many[i].elements.size(), 3U) << many[i].str;
        EXPECT_EQ(many[i].elements[1].str, std::string(1, static_cast<char>('b' + i)));
    }
    // Each call ran exactly once: 1 + 3 increments.
    EXPECT_EQ(conn.Run({"GET", key}).str, "4");
    (void)conn.Run({"DEL", key});
}

template <typename T>
T OnOneThread(boost::asio::io_context& io, std::function<boost::asio::awaitable<T>()> body) {
    auto result = boost::asio::co_spawn(io, std::move(body), boost::asio::use_future);
    io.run();
    return result.get();
}

TEST(RedisLive, PoolServesOthersOnTheSameThreadWhileACommandWaits) {
    boost::asio::io_context io;
    Pool pool(io.get_executor(), LiveOptions(), 2);
    const auto key = "test:" + ids::NewUuid();
    std::vector<std::string> finished;
    auto slow = [&]() -> boost::asio::awaitable<void> {
        // Nothing is ever pushed: BLPOP answers nil after its 0.3 s.
        const auto reply = co_await pool.Run([&](Connection& c) { return c.Run({"BLPOP", key, "0.3"}); });
        finished.emplace_back(reply.IsNil() ? "slow" : "slow with a value");
    };
    auto quick = [&]() -> boost::asio::awaitable<void> {
        const auto reply = co_await pool.Run([](Connection& c) { return c.Run({"PING"}); });
        finished.emplace_back(reply.str);
    };
    boost::asio::co_spawn(io, slow, boost::asio::detached);
    boost::asio::co_spawn(io, quick, boost::asio::detached);
    io.run();  // one thread: a blocking call in "slow" would hold "quick" back
    EXPECT_EQ(finished, (std::vector<std::string>{"PONG", "slow"}));
}

TEST(RedisLive, PoolReconnectsAfterTheServerDropsItsConnection) {
    boost::asio::io_context io;
    Pool pool(io.get_executor(), LiveOptions(), 1);
    Connection admin(LiveOptions());
    const auto outcome = OnOneThread<std::string>(io, [&]() -> boost::asio::awaitable<std::string> {
        const auto id = co_await pool.Run([](Connection& c) { return c.Run({"CLIENT", "ID"}).integer; });
        if (Checked(admin.Run({"CLIENT", "KILL", "ID", std::to_string(id)})).integer != 1) {
            co_return "CLIENT KILL found no connection";
        }
        try {
            (void)co_await pool.Run([](Connection& c) { return c.Run({"PING"}); });
            co_return "no error on a dropped connection";
        } catch (const ConnectionError&) {
        }
        const auto again = co_await pool.Run([](Connection& c) { return c.Run({"CLIENT", "ID"}).integer; });
        co_return again != id ? "reconnected" : "same connection";
    });
    EXPECT_EQ(outcome, "reconnected");
}

TEST(RedisLive, PoolGivesUpOnAServerThatNeverAnswers) {
    boost::asio::io_context io;
    // Accepts connections (the kernel does) but never says a word.
    boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    Options options;
    options.port = silent.local_endpoint().port();
    options.command_timeout = std::chrono::milliseconds(100);
    Pool pool(io.get_executor(), options, 1);
    const auto started = std::chrono::steady_clock::now();
    const auto outcome = OnOneThread<std::string>(io, [&]() -> boost::asio::awaitable<std::string> {
        try {
            (void)co_await pool.Run([](Connection& c) { return c.Run({"PING"}); });
            co_return "answered";
        } catch (const ConnectionError& e) {
            co_return e.what();
        }
    });
    EXPECT_NE(outcome.find("no reply in time"), std::string::npos) << outcome;
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
}

TEST(RedisLive, PoolPingsOnItsExecutor) {
    boost::asio::io_context io;
    Pool pool(io.get_executor(), LiveOptions(), 2);
    EXPECT_TRUE(OnOneThread<bool>(io, [&] { return pool.Ping(); }));
}

/// Writes down what Tracking tells, in order: "up", "lost", "flushed", "changed <key>".
class Recorder : public Tracking::Listener {
   public:
    void Up() override { Add("up"); }
    void Lost() override { Add("lost"); }
    void Flushed() override { Add("flushed"); }
    void Changed(const std::vector<std::string>& keys) override {
        for (const auto& key : keys) {
            Add("changed " + key);
        }
    }
    /// Waits until `what` has been told `times` times in all; false after `timeout`.
    bool WaitFor(const std::string& what, std::size_t times = 1,
                 std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        std::unique_lock lock(mutex_);
        return told_.wait_for(lock, timeout, [&] {
            return static_cast<std::size_t>(std::count(events_.begin(), events_.end(), what)) >= times;
        });
    }
    std::vector<std::string> Events() {
        const std::lock_guard lock(mutex_);
        return events_;
    }

   private:
    void Add(std::string event) {
        {
            const std::lock_guard lock(mutex_);
            events_.push_back(std::move(event));
        }
        told_.notify_all();
    }
    std::mutex mutex_;
    std::condition_variable told_;
    std::vector<std::string> events_;
};

/// The id of the connection CLIENT SETNAME named `name`, or -1.
long long ClientNamed(Connection& admin, const std::string& name) {
    const auto list = Checked(admin.Run({"CLIENT", "LIST"})).str;
    const auto at = list.find(" name=" + name + " ");
    if (at == std::string::npos) {
        return -1;
    }
    const auto line = list.rfind("id=", at);
    return std::stoll(list.substr(line + 3));
}

TEST(RedisLive, TrackingTellsWhichKeysUnderItsPrefixesChanged) {
    const auto prefix = "tracked:" + ids::NewUuid() + ":";
    const auto name = "tracking-test-" + ids::NewUuid();  // whole: UUIDv7s begin with the time
    Recorder told;
    Tracking tracking(LiveOptions(), name, {prefix + "a:", prefix + "b:"}, told);
    ASSERT_TRUE(told.WaitFor("up"));

    Connection writer(LiveOptions());
    (void)Checked(writer.Run({"SET", prefix + "a:1", "v", "EX", "60"}));
    (void)Checked(writer.Run({"SET", prefix + "elsewhere", "v", "EX", "60"}));  // under no prefix
    (void)Checked(writer.Run({"ZADD", prefix + "b:2", "1", "m"}));
    (void)Checked(writer.Run({"DEL", prefix + "a:1", prefix + "b:2", prefix + "elsewhere"}));
    ASSERT_TRUE(told.WaitFor("changed " + prefix + "b:2", 2)) << ::testing::PrintToString(told.Events());
    EXPECT_EQ(told.Events(), (std::vector<std::string>{"up", "changed " + prefix + "a:1", "changed " + prefix + "b:2",
                                                       "changed " + prefix + "a:1", "changed " + prefix + "b:2"}));

    // A flush (of any database) is told as one message for everything.
    Options other = LiveOptions();
    other.db = 9;
    Connection elsewhere(other);
    (void)Checked(elsewhere.Run({"FLUSHDB"}));
    EXPECT_TRUE(told.WaitFor("flushed"));
}

TEST(RedisLive, TrackingSaysLostWhenItsConnectionDiesAndComesBack) {
    const auto prefix = "tracked:" + ids::NewUuid() + ":";
    const auto name = "tracking-test-" + ids::NewUuid();  // whole: UUIDv7s begin with the time
    Recorder told;
    Tracking tracking(LiveOptions(), name, {prefix}, told, std::chrono::milliseconds(200));
    ASSERT_TRUE(told.WaitFor("up"));
    Connection admin(LiveOptions());

    // Killed by the server.
    const auto id = ClientNamed(admin, name);
    ASSERT_GT(id, 0);
    EXPECT_EQ(Checked(admin.Run({"CLIENT", "KILL", "ID", std::to_string(id)})).integer, 1);
    ASSERT_TRUE(told.WaitFor("up", 2)) << ::testing::PrintToString(told.Events());
    auto events = told.Events();
    std::erase(events, "flushed");  // the test above flushes a database, maybe meanwhile
    EXPECT_EQ(events, (std::vector<std::string>{"up", "lost", "up"}));
    EXPECT_NE(ClientNamed(admin, name), id);
    (void)Checked(admin.Run({"SET", prefix + "after", "v", "EX", "60"}));
    EXPECT_TRUE(told.WaitFor("changed " + prefix + "after"));  // the new connection tracks too

    // Silent: the server answers nobody for a while. The connection itself stays whole, so only
    // the unanswered PING can tell.
    (void)Checked(admin.Run({"CLIENT", "PAUSE", "1000", "ALL"}));
    ASSERT_TRUE(told.WaitFor("lost", 2));
    EXPECT_TRUE(told.WaitFor("up", 3));

    tracking.Stop();
    EXPECT_EQ(told.Events().back(), "lost");
}

}  // namespace
}  // namespace sn::redis
