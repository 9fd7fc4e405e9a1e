// Needs the PostgreSQL that `make test` starts (PG_TEST_DSN overrides where).
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "common/ids.hpp"
#include "pg/group_commit.hpp"
#include "pg/migrations.hpp"
#include "pg/periodic_job.hpp"
#include "pg/pool.hpp"

namespace sn::pg {
namespace {

std::string Dsn() {
    const char* dsn = std::getenv("PG_TEST_DSN");
    return dsn != nullptr ? dsn : "host=127.0.0.1 port=55432 dbname=postgres user=postgres";
}

class PgTest : public ::testing::Test {
   protected:
    PgTest() : conn_(Dsn(), std::chrono::milliseconds(5000)), table_("t_" + ids::NewRequestId()) {
        conn_.Simple("CREATE TABLE " + table_ + " (id int PRIMARY KEY, name text)");
    }
    ~PgTest() override { conn_.Simple("DROP TABLE IF EXISTS " + table_); }

    Connection conn_;
    std::string table_;
};

TEST_F(PgTest, ExecBindsParametersIncludingNull) {
    (void)conn_.Exec("INSERT INTO " + table_ + " VALUES ($1, $2)", 1, "a'; DROP TABLE x; --");
    (void)conn_.Exec("INSERT INTO " + table_ + " VALUES ($1, $2)", 2, std::nullopt);
    const auto rows = conn_.Exec("SELECT id, name FROM " + table_ + " ORDER BY id");
    ASSERT_EQ(rows.Rows(), 2);
    EXPECT_EQ(rows.Int(0, 0), 1);
    EXPECT_EQ(rows.Text(0, 1), "a'; DROP TABLE x; --");
    EXPECT_TRUE(rows.IsNull(1, 1));
}

TEST_F(PgTest, UniqueViolationIsTyped) {
    (void)conn_.Exec("INSERT INTO " + table_ + " VALUES ($1, $2)", 1, "a");
    try {
        (void)conn_.Exec("INSERT INTO " + table_ + " VALUES ($1, $2)", 1, "b");
        FAIL() << "expected a unique violation";
    } catch (const QueryError& e) {
        EXPECT_TRUE(e.IsUniqueViolation()) << e.sqlstate();
    }
}

TEST_F(PgTest, TransactionRollsBackUnlessCommitted) {
    {
        Transaction tx(conn_);
        (void)conn_.Exec("INSERT INTO " + table_ + " VALUES ($1, $2)", 1, "a");
    }
    EXPECT_TRUE(conn_.Exec("SELECT 1 FROM " + table_).Empty());
    {
        Transaction tx(conn_);
        (void)conn_.Exec("INSERT INTO " + table_ + " VALUES ($1, $2)", 1, "a");
        tx.Commit();
    }
    EXPECT_EQ(conn_.Exec("SELECT 1 FROM " + table_).Rows(), 1);
}

TEST_F(PgTest, StatementTimeoutIsAnUnavailableError) {
    Connection quick(Dsn(), std::chrono::milliseconds(50));
    EXPECT_THROW((void)quick.Exec("SELECT pg_sleep(1)"), ConnectionError);
    EXPECT_EQ(quick.Exec("SELECT 1").Int(0, 0), 1);
}

TEST_F(PgTest, UnreachableServerIsAConnectionError) {
    EXPECT_THROW(Connection("host=127.0.0.1 port=1 dbname=x user=x", std::chrono::milliseconds(100)), ConnectionError);
}

TEST_F(PgTest, PoolRunsWorkAndTransactRollsBack) {
    boost::asio::io_context io;
    Pool pool(io.get_executor(), Dsn(), 2, std::chrono::milliseconds(5000));
    const auto table = table_;
    auto inserted = boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<std::int64_t> {
            co_await pool.Transact(
                [&](Connection& c) { (void)c.Exec("INSERT INTO " + table + " VALUES ($1, $2)", 7, "x"); });
            try {
                co_await pool.Transact([&](Connection& c) {
                    (void)c.Exec("INSERT INTO " + table + " VALUES ($1, $2)", 8, "y");
                    throw std::runtime_error("abort");
                });
            } catch (const std::runtime_error&) {
            }
            co_return co_await pool.Run(
                [&](Connection& c) { return c.Exec("SELECT count(*) FROM " + table).Int(0, 0); });
        },
        boost::asio::use_future);
    io.run();
    EXPECT_EQ(inserted.get(), 1);
}

// Runs `body` as a coroutine on a single thread until it finishes, and returns its result.
template <typename T>
T OnOneThread(boost::asio::io_context& io, std::function<boost::asio::awaitable<T>()> body) {
    auto result = boost::asio::co_spawn(io, std::move(body), boost::asio::use_future);
    io.run();
    return result.get();
}

TEST_F(PgTest, PoolServesOthersOnTheSameThreadWhileAStatementWaits) {
    boost::asio::io_context io;
    Pool pool(io.get_executor(), Dsn(), 2, std::chrono::milliseconds(5000));
    std::vector<std::string> finished;
    auto slow = [&]() -> boost::asio::awaitable<void> {
        co_await pool.Run([](Connection& c) { (void)c.Exec("SELECT pg_sleep(0.3)"); });
        finished.emplace_back("slow");
    };
    auto quick = [&]() -> boost::asio::awaitable<void> {
        co_await pool.Run([](Connection& c) { (void)c.Exec("SELECT 1"); });
        finished.emplace_back("quick");
    };
    boost::asio::co_spawn(io, slow, boost::asio::detached);
    boost::asio::co_spawn(io, quick, boost::asio::detached);
    io.run();  // one thread: a blocking call in "slow" would hold "quick" back
    EXPECT_EQ(finished, (std::vector<std::string>{"quick", "slow"}));
}

TEST_F(PgTest, PoolLendsEachConnectionToOneRunAtATime) {
    boost::asio::io_context io;
    Pool pool(io.get_executor(), Dsn(), 2, std::chrono::milliseconds(5000));
    int busy = 0;
    int most_busy = 0;
    int done = 0;
    for (int i = 0; i < 8; ++i) {
        boost::asio::co_spawn(
            io,
            [&]() -> boost::asio::awaitable<void> {
                co_await pool.Run([&](Connection& c) {
                    most_busy = std::max(most_busy, ++busy);
                    (void)c.Exec("SELECT pg_sleep(0.02)");
                    --busy;
                });
                ++done;
            },
            boost::asio::detached);
    }
    io.run();
    EXPECT_EQ(done, 8);
    EXPECT_EQ(most_busy, 2);
}

TEST_F(PgTest, PoolReconnectsAfterTheServerDropsItsConnection) {
    boost::asio::io_context io;
    Pool pool(io.get_executor(), Dsn(), 1, std::chrono::milliseconds(5000));
    const auto outcome = OnOneThread<std::string>(io, [&]() -> boost::asio::awaitable<std::string> {
        const auto pid = co_await pool.Run([](Connection& c) { return c.Exec("SELECT pg_backend_pid()").Int(0, 0); });
        (void)conn_.Exec("SELECT pg_terminate_backend($1)", pid);
        try {
            co_await pool.Run([](Connection& c) { (void)c.Exec("SELECT 1"); });
            co_return "no error on a dropped connection";
        } catch (const ConnectionError&) {
        }
        const auto again = co_await pool.Run([](Connection& c) { return c.Exec("SELECT pg_backend_pid()").Int(0, 0); });
        co_return again != pid ? "reconnected" : "same backend";
    });
    EXPECT_EQ(outcome, "reconnected");
}

TEST_F(PgTest, PoolReadRunsOnceMoreWhenItsOpenConnectionTurnsOutDead) {
    boost::asio::io_context io;
    metrics::Registry registry;
    Pool pool(io.get_executor(), Dsn(), 1, std::chrono::milliseconds(300));
    pool.CountReads(registry, "test");
    const auto outcome = OnOneThread<std::string>(io, [&]() -> boost::asio::awaitable<std::string> {
        const auto pid = co_await pool.Read([](Connection& c) { return c.Exec("SELECT pg_backend_pid()").Int(0, 0); });
        (void)conn_.Exec("SELECT pg_terminate_backend($1)", pid);  // a standby killed, a failover
        const auto again =
            co_await pool.Read([](Connection& c) { return c.Exec("SELECT pg_backend_pid()").Int(0, 0); });
        if (again == pid) {
            co_return "same backend";
        }
        try {  // a statement timeout leaves the connection open: not repeated
            (void)co_await pool.Read([](Connection& c) { return c.Exec("SELECT pg_sleep(1)").Rows(); });
            co_return "no timeout";
        } catch (const ConnectionError&) {
        }
        co_return "read again once";
    });
    EXPECT_EQ(outcome, "read again once");
    const auto text = registry.Render();
    EXPECT_NE(text.find("pg_read_retries_total{pool=\"test\"} 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("pg_reads_total{pool=\"test\",server=\"primary\"} 2\n"), std::string::npos) << text;
}

TEST_F(PgTest, PoolReadDoesNotRepeatAConnectThatFailed) {
    boost::asio::io_context io;
    metrics::Registry registry;
    Pool pool(io.get_executor(), "host=127.0.0.1 port=1 dbname=x user=x", 1, std::chrono::milliseconds(300));
    pool.CountReads(registry, "test");
    const auto outcome = OnOneThread<std::string>(io, [&]() -> boost::asio::awaitable<std::string> {
        try {
            (void)co_await pool.Read([](Connection& c) { return c.Exec("SELECT 1").Rows(); });
            co_return "answered";
        } catch (const ConnectionError&) {
            co_return "refused";
        }
    });
    EXPECT_EQ(outcome, "refused");
    EXPECT_NE(registry.Render().find("pg_read_retries_total{pool=\"test\"} 0\n"), std::string::npos);
}

TEST_F(PgTest, PoolReopensAConnectionOlderThanReopenAfterButNotInsideATransaction) {
    boost::asio::io_context io;
    Pool pool(io.get_executor(), Dsn(), 1, std::chrono::milliseconds(5000), std::chrono::seconds(1));
    const auto pids =
        OnOneThread<std::vector<std::int64_t>>(io, [&]() -> boost::asio::awaitable<std::vector<std::int64_t>> {
            auto seen = co_await pool.Transact([](Connection& c) {
                std::vector<std::int64_t> in_tx{c.Exec("SELECT pg_backend_pid()").Int(0, 0)};
                std::this_thread::sleep_for(std::chrono::milliseconds(1100));
                in_tx.push_back(c.Exec("SELECT pg_backend_pid()").Int(0, 0));
                return in_tx;
            });
            seen.push_back(
                co_await pool.Run([](Connection& c) { return c.Exec("SELECT pg_backend_pid()").Int(0, 0); }));
            co_return seen;
        });
    ASSERT_EQ(pids.size(), 3U);
    EXPECT_EQ(pids[0], pids[1]) << "reopened inside a transaction";
    EXPECT_NE(pids[1], pids[2]) << "not reopened after a second";
}

TEST_F(PgTest, PoolConnectsPastAHostThatRefuses) {
    // A cluster's DSN lists every node; libpq replaces the refused host's socket by the next
    // one's between two polls, usually under the same descriptor number.
    const auto port = conn_.Exec("SELECT inet_server_port()").Int(0, 0);
    boost::asio::io_context io;
    Pool pool(io.get_executor(),
              "host=127.0.0.1,127.0.0.1 port=1," + std::to_string(port) + " dbname=postgres user=postgres", 1,
              std::chrono::milliseconds(2000));
    const auto outcome = OnOneThread<std::string>(io, [&]() -> boost::asio::awaitable<std::string> {
        for (int i = 0; i < 3; ++i) {
            const auto pid =
                co_await pool.Run([](Connection& c) { return c.Exec("SELECT pg_backend_pid()").Int(0, 0); });
            (void)conn_.Exec("SELECT pg_terminate_backend($1)", pid);  // the next round connects again
            try {
                co_await pool.Run([](Connection& c) { (void)c.Exec("SELECT 1"); });
            } catch (const ConnectionError&) {
            }
        }
        co_return "connected three times";
    });
    EXPECT_EQ(outcome, "connected three times");
}

TEST_F(PgTest, PoolGivesUpOnAServerThatNeverAnswers) {
    boost::asio::io_context io;
    // Accepts connections (the kernel does) but never says a word.
    boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    Pool pool(io.get_executor(),
              "host=127.0.0.1 port=" + std::to_string(silent.local_endpoint().port()) + " dbname=x user=x", 1,
              std::chrono::milliseconds(100));
    const auto outcome = OnOneThread<std::string>(io, [&]() -> boost::asio::awaitable<std::string> {
        try {
            co_await pool.Run([](Connection& c) { (void)c.Exec("SELECT 1"); });
            co_return "answered";
        } catch (const ConnectionError& e) {
            co_return e.what();
        }
    });
    EXPECT_EQ(outcome, "PostgreSQL did not answer in time");
}

TEST_F(PgTest, PeriodicJobCarriesOnAfterAFailedRunAndABrokenConnection) {
    std::atomic<int> runs{0};
    {
        PeriodicJob job("test", Dsn(), std::chrono::milliseconds(10), std::chrono::milliseconds(5000),
                        [&](Connection& conn) {
                            const int run = ++runs;
                            if (run == 1) {
                                (void)conn.Exec("SELECT no_such_function()");
                            } else if (run == 2) {
                                (void)conn.Exec("SELECT pg_terminate_backend(pg_backend_pid())");
                            } else {
                                (void)conn.Exec("INSERT INTO " + table_ + " (id) VALUES ($1)", run);
                            }
                        });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (conn_.Exec("SELECT count(*) FROM " + table_).Int(0, 0) < 3 &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    const auto rows = conn_.Exec("SELECT id FROM " + table_ + " ORDER BY id LIMIT 3");
    ASSERT_EQ(rows.Rows(), 3);
    EXPECT_EQ(rows.Int(0, 0), 3);
    EXPECT_EQ(rows.Int(2, 0), 5);
}

TEST_F(PgTest, PeriodicJobStopsWithoutWaitingOutItsInterval) {
    std::atomic<int> runs{0};
    PeriodicJob job("test", Dsn(), std::chrono::hours(1), std::chrono::milliseconds(5000),
                    [&](Connection& conn) { runs += static_cast<int>(conn.Exec("SELECT 1").Int(0, 0)); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (runs == 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(runs, 1);
    const auto started = std::chrono::steady_clock::now();
    job.Stop();
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
    job.Stop();  // idempotent
    EXPECT_EQ(runs, 1);
}

/// Numbers in, ten times each out, in one statement.
std::vector<std::string> TimesTen(Connection& conn, std::span<const std::string> items) {
    const auto rows = conn.Exec("SELECT x * 10 FROM unnest($1::int[]) WITH ORDINALITY AS t(x, n) ORDER BY n",
                                std::vector<std::string>(items.begin(), items.end()));
    std::vector<std::string> out;
    for (int i = 0; i < rows.Rows(); ++i) {
        out.push_back(rows.String(i, 0));
    }
    return out;
}

/// TimesTen, one statement per batch; the first batch also sleeps 0.1 s, so that everything
/// submitted meanwhile has to queue. Every batch's size is recorded.
struct TenTimes {
    std::vector<std::size_t> batches;
    std::vector<std::string> operator()(Connection& conn, std::span<const std::string> items) {
        batches.push_back(items.size());
        if (batches.size() == 1) {
            (void)conn.Exec("SELECT pg_sleep(0.1)");
        }
        return TimesTen(conn, items);
    }
};

/// A GroupCommit of TenTimes on a pool of its own, driven on this thread.
struct Batching {
    explicit Batching(GroupCommit<std::string, std::string>::Options options)
        : pool(io.get_executor(), Dsn(), 4, std::chrono::milliseconds(5000)), batcher(pool, options, std::ref(write)) {}

    /// Submits every item at once; each caller's answer ("error" when its batch failed), in order.
    std::vector<std::string> SubmitAll(const std::vector<std::string>& items) {
        std::vector<std::string> answers(items.size());
        for (std::size_t i = 0; i < items.size(); ++i) {
            boost::asio::co_spawn(
                io,
                [&, i]() -> boost::asio::awaitable<void> {
                    auto item = items[i];
                    try {
                        answers[i] = co_await batcher.Submit(std::move(item));
                    } catch (const QueryError&) {
                        answers[i] = "error";
                    }
                },
                boost::asio::detached);
        }
        io.run();
        io.restart();
        return answers;
    }

    boost::asio::io_context io;
    Pool pool;
    TenTimes write;
    GroupCommit<std::string, std::string> batcher;
};

std::vector<std::string> Numbers(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
        out.push_back(std::to_string(i));
    }
    return out;
}

TEST_F(PgTest, GroupCommitWritesWhatQueuedMeanwhileTogetherAndAnswersEachCaller) {
    Batching batching({.writers = 1, .max_batch = 8});
    const auto answers = batching.SubmitAll(Numbers(20));
    for (std::size_t i = 0; i < answers.size(); ++i) {
        EXPECT_EQ(answers[i], std::to_string(i * 10));
    }
    // The first call found the writer free and went alone; the other 19 queued behind it and went
    // in batches of at most 8.
    EXPECT_EQ(batching.write.batches, (std::vector<std::size_t>{1, 8, 8, 3}));
}

TEST_F(PgTest, GroupCommitRunsAsManyWritersAsAllowed) {
    Batching batching({.writers = 3, .max_batch = 64});
    EXPECT_EQ(batching.SubmitAll(Numbers(10)).back(), "90");
    // Three callers found a writer free; the seven after them waited for one.
    const auto& batches = batching.write.batches;
    ASSERT_GE(batches.size(), 4U);
    EXPECT_EQ(batches[0] + batches[1] + batches[2], 3U);
}

TEST_F(PgTest, GroupCommitFailsOnlyTheBatchThatFailedAndGoesOn) {
    Batching batching({.writers = 1, .max_batch = 64});
    // "x" is no number: the statement of its batch fails, so all of that batch fail with it.
    EXPECT_EQ(batching.SubmitAll({"1", "2", "x", "4"}), (std::vector<std::string>{"10", "error", "error", "error"}));
    EXPECT_EQ(batching.SubmitAll({"5"}), (std::vector<std::string>{"50"}));
}

// As the services run them: one io_context on several threads (THREADS), so a pooled connection
// and its stack pass from thread to thread, and a coroutine may resume on another thread than it
// began on. Under ThreadSanitizer (`make tsan`) this is where fiber::Pool's threads meet.
TEST_F(PgTest, PoolAndGroupCommitServeSeveralIoThreads) {
    constexpr int kRuns = 60;
    constexpr int kSubmits = 60;
    boost::asio::io_context io;
    Pool pool(io.get_executor(), Dsn(), 3, std::chrono::milliseconds(5000));
    GroupCommit<std::string, std::string> batcher(pool, {.writers = 2, .max_batch = 8}, &TimesTen);
    // A batch that fails fails all of its callers with one exception, which they read on their own
    // threads (scripts/tsan.supp says why TSan needs telling that this is safe).
    GroupCommit<std::string, std::string> failing(pool, {.writers = 1, .max_batch = 8},
                                                  [](Connection& c, std::span<const std::string>) {
                                                      (void)c.Exec("SELECT no_such_function()");
                                                      return std::vector<std::string>{};
                                                  });
    std::mutex mutex;
    std::map<const Connection*, int> holders;  // Runs holding each connection now
    int overlaps = 0;                          // a connection lent to two Runs at once
    const auto hold = [&](const Connection& c, int change) {
        const std::lock_guard lock(mutex);
        if ((holders[&c] += change) > 1) {
            ++overlaps;
        }
    };
    const auto table = table_;
    std::vector<std::string> answers(kSubmits);
    std::vector<std::string> errors(kSubmits);
    for (int i = 0; i < kRuns; ++i) {
        boost::asio::co_spawn(
            io,
            [&, i]() -> boost::asio::awaitable<void> {
                co_await pool.Run([&](Connection& c) {
                    hold(c, 1);
                    (void)c.Exec("INSERT INTO " + table + " VALUES ($1, pg_backend_pid()::text)", i);
                    hold(c, -1);
                });
            },
            boost::asio::detached);
    }
    for (int i = 0; i < kSubmits; ++i) {
        boost::asio::co_spawn(
            io,
            [&, i]() -> boost::asio::awaitable<void> {
                auto item = std::to_string(i);
                answers[static_cast<std::size_t>(i)] = co_await batcher.Submit(std::move(item));
                auto doomed = std::to_string(i);
                try {
                    (void)co_await failing.Submit(std::move(doomed));
                } catch (const QueryError& e) {
                    errors[static_cast<std::size_t>(i)] = e.what();
                }
            },
            boost::asio::detached);
    }
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&io] { io.run(); });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(overlaps, 0);
    EXPECT_LE(holders.size(), 3U);  // 60 Runs on the 3 connections of the pool
    EXPECT_EQ(conn_.Exec("SELECT count(*) FROM " + table_).Int(0, 0), kRuns);
    for (int i = 0; i < kSubmits; ++i) {
        EXPECT_EQ(answers[static_cast<std::size_t>(i)], std::to_string(i * 10));
        EXPECT_NE(errors[static_cast<std::size_t>(i)].find("no_such_function"), std::string::npos);
    }
}

TEST_F(PgTest, MigrationsApplyOnceInOrder) {
    const auto dir = std::filesystem::temp_directory_path() / ("mig_" + ids::NewRequestId());
    std::filesystem::create_directories(dir);
    // Unique names: schema_migrations is shared with earlier runs against the same database.
    const auto first = "001_" + table_ + ".sql";
    const auto second = "002_" + table_ + ".sql";
    std::ofstream(dir / first) << "CREATE TABLE " << table_ << "_m (v int);";
    std::ofstream(dir / second) << "INSERT INTO " << table_ << "_m VALUES (1);";
    EXPECT_EQ(Migrate(conn_, {dir}), 2);
    EXPECT_EQ(Migrate(conn_, {dir}), 0);
    EXPECT_EQ(conn_.Exec("SELECT count(*) FROM " + table_ + "_m").Int(0, 0), 1);
    conn_.Simple("DROP TABLE " + table_ + "_m");
    (void)conn_.Exec("DELETE FROM schema_migrations WHERE name IN ($1, $2)", first, second);
    std::filesystem::remove_all(dir);
}

int hook_calls = 0;
void CountCall() { ++hook_calls; }

TEST_F(PgTest, CommitHooksRunOnceAfterCommitAndNeverAfterRollback) {
    hook_calls = 0;
    {
        Transaction tx(conn_);
        conn_.AfterCommit(&CountCall);
        conn_.AfterCommit(&CountCall);
        EXPECT_EQ(hook_calls, 0);
        tx.Commit();
    }
    EXPECT_EQ(hook_calls, 1);
    {
        Transaction tx(conn_);
        conn_.AfterCommit(&CountCall);
    }  // rolled back
    {
        Transaction tx(conn_);
        tx.Commit();
    }
    EXPECT_EQ(hook_calls, 1);
    conn_.AfterCommit(&CountCall);  // outside a transaction: a statement commits by itself
    EXPECT_EQ(hook_calls, 2);
}

}  // namespace
}  // namespace sn::pg
