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
