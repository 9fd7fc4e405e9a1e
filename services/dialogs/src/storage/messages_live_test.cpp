// MessageStore on the PostgreSQL that `make test` starts (PG_TEST_DSN overrides where), in a
// scratch schema of its own with the saga's and dialogs' migrations applied.
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/ids.hpp"
#include "pg/migrations.hpp"
#include "storage/messages.hpp"

namespace dialogs {
namespace {

using sn::saga::CountReply;
using sn::saga::Received;

std::string Dsn() {
    const char* dsn = std::getenv("PG_TEST_DSN");
    return dsn != nullptr ? dsn : "host=127.0.0.1 port=55432 dbname=postgres user=postgres";
}

class MessageStoreTest : public ::testing::Test {
   protected:
    MessageStoreTest() : conn_(Dsn(), std::chrono::milliseconds(30'000)), schema_("d_" + sn::ids::NewRequestId()) {
        conn_.Simple("CREATE SCHEMA " + schema_ + "; SET search_path TO " + schema_);
        (void)sn::pg::Migrate(conn_, {SN_SAGA_MIGRATIONS_DIR, SN_MIGRATIONS_DIR});
    }
    ~MessageStoreTest() override { conn_.Simple("DROP SCHEMA " + schema_ + " CASCADE"); }

    /// Index scans of the partial index of pending messages so far, as the statistics say.
    std::int64_t PendingIndexScans() {
        (void)conn_.Exec("SELECT pg_stat_force_next_flush()");  // this session's counts, now
        return conn_
            .Exec(
                "SELECT idx_scan FROM pg_stat_user_indexes WHERE schemaname = $1 "
                "AND indexrelname = 'messages_pending_idx'",
                schema_)
            .Int(0, 0);
    }

    sn::pg::Connection conn_;
    std::string schema_;
};

// PostgreSQL's statistics lag: taken while nothing was pending, they say a pending row is rare.
// A reply must then still find its messages by id or event, not read the partial index of every
// pending row (which, behind a backlog, made each batch of 200 replies take a second).
TEST_F(MessageStoreTest, RepliesFindTheirMessagesWithoutReadingEveryPendingRow) {
    const auto author = sn::ids::NewUuid();
    const auto recipient = sn::ids::NewUuid();
    (void)conn_.Exec(
        "INSERT INTO messages (id, author_id, recipient_id, text, state, event_id) "
        "SELECT gen_random_uuid(), $1, $2, 'old', 'READ', gen_random_uuid() FROM generate_series(1, 20000)",
        author, recipient);
    conn_.Simple("ANALYZE messages");
    const auto pending = conn_.Exec(
        "INSERT INTO messages (id, author_id, recipient_id, text, event_id) "
        "SELECT gen_random_uuid(), $1, $2, 'new', gen_random_uuid() FROM generate_series(1, 2000) "
        "RETURNING id, event_id",
        author, recipient);
    // A prepared statement gets the generic plan after five runs; this one at once.
    conn_.Simple("SET plan_cache_mode = force_generic_plan");

    std::vector<Received<CountReply>> replies;
    for (int i = 0; i < 200; ++i) {
        CountReply reply;
        reply.event_id = sn::ids::NewUuid();
        reply.in_reply_to = pending.String(i, 1);
        reply.author_id = author;
        reply.recipient_id = recipient;
        reply.message_ids = {pending.String(i, 0)};
        replies.push_back({std::move(reply), nullptr});
    }
    const auto scans_before = PendingIndexScans();
    std::vector<ReplyEffect> effects;
    {
        sn::pg::Transaction tx(conn_);
        effects = MessageStore::ApplyReplies(conn_, replies);
        tx.Commit();
    }
    EXPECT_EQ(PendingIndexScans(), scans_before);
    ASSERT_EQ(effects.size(), 200U);
    for (const auto& effect : effects) {
        EXPECT_EQ(effect.moved, 1);
    }
    EXPECT_EQ(conn_.Exec("SELECT count(*) FROM messages WHERE state = 'UNREAD'").Int(0, 0), 200);
}

}  // namespace
}  // namespace dialogs
