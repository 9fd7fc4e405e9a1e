// The inbox and the outbox on the PostgreSQL that `make test` starts (PG_TEST_DSN overrides where),
// each test in a scratch schema of its own with the saga migrations applied.
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/ids.hpp"
#include "pg/migrations.hpp"
#include "saga/consumer.hpp"
#include "saga/outbox.hpp"

namespace sn::saga {
namespace {

std::string Dsn() {
    const char* dsn = std::getenv("PG_TEST_DSN");
    return dsn != nullptr ? dsn : "host=127.0.0.1 port=55432 dbname=postgres user=postgres";
}

class SagaStoreTest : public ::testing::Test {
   protected:
    SagaStoreTest() : conn_(Dsn(), std::chrono::milliseconds(5000)), schema_("s_" + ids::NewRequestId()) {
        conn_.Simple("CREATE SCHEMA " + schema_ + "; SET search_path TO " + schema_);
        (void)pg::Migrate(conn_, {SN_SAGA_MIGRATIONS_DIR});
    }
    ~SagaStoreTest() override { conn_.Simple("DROP SCHEMA " + schema_ + " CASCADE"); }

    std::int64_t Count(const std::string& table) { return conn_.Exec("SELECT count(*) FROM " + table).Int(0, 0); }

    pg::Connection conn_;
    std::string schema_;
};

TEST_F(SagaStoreTest, ClaimTellsNewFromSeenAndRepeatsWithinOneCall) {
    const auto a = ids::NewUuid();
    const auto b = ids::NewUuid();
    const auto c = ids::NewUuid();
    {
        pg::Transaction tx(conn_);
        EXPECT_TRUE(inbox::Claim(conn_, {a, b, a}, "counted").empty());
        inbox::Record(conn_, b, "rejected");
        tx.Commit();
    }
    pg::Transaction tx(conn_);
    const auto seen = inbox::Claim(conn_, {a, b, c, c}, "counted");
    EXPECT_EQ(seen.size(), 2U);
    EXPECT_EQ(seen.at(a), "counted");
    EXPECT_EQ(seen.at(b), "rejected");
    EXPECT_FALSE(seen.contains(c));
    tx.Commit();
    EXPECT_EQ(Count("inbox"), 3);
}

TEST_F(SagaStoreTest, PruneForgetsOnlyWhatIsPastTheRetentionAtMostMaxRowsAStatement) {
    const auto old1 = ids::NewUuid();
    const auto old2 = ids::NewUuid();
    const auto fresh = ids::NewUuid();
    EXPECT_TRUE(inbox::Claim(conn_, {old1, old2, fresh}, "counted").empty());
    (void)conn_.Exec("UPDATE inbox SET received_at = now() - interval '8 days' WHERE event_id = ANY($1::uuid[])",
                     std::vector<std::string>{old1, old2});
    const std::chrono::hours week(24 * 7);

    EXPECT_EQ(inbox::Prune(conn_, week, 1), 1);
    EXPECT_EQ(inbox::Prune(conn_, week, 10), 1);
    EXPECT_EQ(inbox::Prune(conn_, week, 10), 0);
    EXPECT_EQ(Count("inbox"), 1);
    // The fresh id is still known; a forgotten one is new again.
    const auto seen = inbox::Claim(conn_, {fresh, old1}, "counted");
    EXPECT_EQ(seen.size(), 1u);
    EXPECT_TRUE(seen.contains(fresh));
}

TEST_F(SagaStoreTest, EnqueueAllKeepsOrderAndPayloadBytesAndSkipsKnownIds) {
    const std::string tricky = R"({"text":"quote \" backslash \\ comma, brace } ünïcode"})";
    std::vector<OutboxEvent> events;
    for (int i = 0; i < 3; ++i) {
        events.push_back({ids::NewUuid(), "x", "a.b", "c" + std::to_string(i), "r", tricky});
    }
    EnqueueAll(conn_, events);
    EnqueueAll(conn_, std::span(events).subspan(1));  // already there: left as they are
    const auto rows = conn_.Exec("SELECT event_id, correlation_id, payload FROM outbox ORDER BY id");
    ASSERT_EQ(rows.Rows(), 3);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(rows.String(i, 0), events[static_cast<std::size_t>(i)].event_id);
        EXPECT_EQ(rows.String(i, 1), "c" + std::to_string(i));
        EXPECT_EQ(rows.String(i, 2), tricky);
    }
}

// A relay's batch is cut by rows and by payload bytes, oldest first, and says whether rows were
// left waiting; rows another relay holds are skipped, not waited for.
TEST_F(SagaStoreTest, ClaimCutsTheBatchByRowsAndByBytes) {
    std::vector<OutboxEvent> events;
    for (int i = 0; i < 10; ++i) {
        events.push_back({ids::NewUuid(), "x", "a.b", "c" + std::to_string(i), "r", std::string(100, 'p')});
    }
    events[0].payload = std::string(1000, 'p');
    EnqueueAll(conn_, events);
    const auto correlations = [](const Claimed& claimed) {
        std::vector<std::string> out;
        for (int i = 0; i < claimed.rows.Rows(); ++i) {
            out.push_back(claimed.rows.String(i, 4));
        }
        return out;
    };
    pg::Transaction tx(conn_);
    // The first row alone is over the byte limit: it comes anyway, alone.
    auto claimed = Claim(conn_, 5, 500);
    EXPECT_EQ(correlations(claimed), (std::vector<std::string>{"c0"}));
    EXPECT_TRUE(claimed.more);
    tx.Commit();

    pg::Connection other(Dsn(), std::chrono::milliseconds(5000));
    other.Simple("SET search_path TO " + schema_);
    pg::Transaction held(other);
    EXPECT_EQ(Claim(other, 2, 1'000'000).rows.Rows(), 2);  // c0 and c1, held by the other relay
    pg::Transaction mine(conn_);
    // Rows that start before 250 bytes: c2 (0), c3 (100), c4 (200); c5 would start at 300.
    claimed = Claim(conn_, 8, 250);
    EXPECT_EQ(correlations(claimed), (std::vector<std::string>{"c2", "c3", "c4"}));
    EXPECT_TRUE(claimed.more);
    // Rows: the five left are fewer than asked for, so nothing is left waiting.
    claimed = Claim(conn_, 100, 1'000'000);
    EXPECT_EQ(correlations(claimed), (std::vector<std::string>{"c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"}));
    EXPECT_FALSE(claimed.more);
    // Exactly as many as asked for: more may follow.
    EXPECT_TRUE(Claim(conn_, 8, 1'000'000).more);
}

// Under load the outbox's heap fills with dead rows faster than vacuum can give pages back, while
// its statistics say it is nearly empty (on the live dialogs outbox after a minute at 4,700
// sends/s: relpages 0, reltuples 0, a heap of 98 MB). The planner believes them and reads the
// whole heap for every claim, as it does for this new, tiny outbox; a relay's connection must
// walk the key instead.
TEST_F(SagaStoreTest, ARelayConnectionClaimsThroughTheKeyWhateverTheStatisticsSay) {
    EnqueueAll(conn_, std::vector<OutboxEvent>{{ids::NewUuid(), "x", "a.b", "live", "r", "{}"}});
    const auto plan = [this] {
        std::string text;
        const auto rows = conn_.Exec("EXPLAIN SELECT id FROM outbox ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED");
        for (int i = 0; i < rows.Rows(); ++i) {
            text += rows.String(i, 0) + "\n";
        }
        return text;
    };
    EXPECT_NE(plan().find("Seq Scan"), std::string::npos) << "the planner no longer falls for it: " << plan();
    PrepareRelayConnection(conn_);
    EXPECT_EQ(plan().find("Seq Scan"), std::string::npos) << plan();
    pg::Transaction tx(conn_);
    const auto claimed = Claim(conn_, 500, 1'000'000);
    ASSERT_EQ(claimed.rows.Rows(), 1);
    EXPECT_EQ(claimed.rows.String(0, 4), "live");
}

TEST_F(SagaStoreTest, EnqueueWithWritesTheChangeAndTheEventAtomically) {
    conn_.Simple("CREATE TABLE notes (id int PRIMARY KEY)");
    const OutboxEvent event{ids::NewUuid(), "x", "a.b", "c", "r", "{}"};
    const auto rows = EnqueueWith(conn_, std::span(&event, 1), "INSERT INTO notes VALUES ($7) RETURNING id * 2", 21);
    EXPECT_EQ(rows.Int(0, 0), 42);
    EXPECT_EQ(Count("outbox"), 1);
    // The change fails (duplicate key): the event is not stored either.
    const OutboxEvent second{ids::NewUuid(), "x", "a.b", "c", "r", "{}"};
    EXPECT_THROW((void)EnqueueWith(conn_, std::span(&second, 1), "INSERT INTO notes VALUES ($7)", 21), pg::QueryError);
    EXPECT_EQ(Count("outbox"), 1);
    EXPECT_EQ(Count("notes"), 1);
}

}  // namespace
}  // namespace sn::saga
