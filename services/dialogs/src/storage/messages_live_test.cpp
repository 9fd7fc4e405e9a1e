// MessageStore on the PostgreSQL that `make test` starts (PG_TEST_DSN overrides where), in a
// scratch schema of its own with the saga's and dialogs' migrations applied.
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/ids.hpp"
#include "pg/migrations.hpp"
#include "saga/events.hpp"
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

    /// What the statistics say of one index so far: `column` is idx_scan or idx_tup_read.
    std::int64_t IndexStat(std::string_view index, std::string_view column) {
        (void)conn_.Exec("SELECT pg_stat_force_next_flush()");  // this session's counts, now
        return conn_
            .Exec("SELECT " + std::string(column) +
                      " FROM pg_stat_user_indexes WHERE schemaname = $1 AND indexrelname = $2",
                  schema_, index)
            .Int(0, 0);
    }
    /// Index scans of the partial index of pending messages so far.
    std::int64_t PendingIndexScans() { return IndexStat("messages_pending_idx", "idx_scan"); }

    /// n messages from author to recipient in one state, each under an event of its own.
    void Insert(const std::string& author, const std::string& recipient, std::string_view state, int n) {
        (void)conn_.Exec(
            "INSERT INTO messages (id, author_id, recipient_id, text, state, event_id) "
            "SELECT gen_random_uuid(), $1, $2, 'm', $3, gen_random_uuid() FROM generate_series(1, $4::int)",
            author, recipient, state, n);
    }

    sn::pg::Connection conn_;
    std::string schema_;
};

// A page is the dialog's messages oldest first, each with its author and recipient and its
// created_at to the microsecond (the service formats it; PostgreSQL's exact value is the reference).
TEST_F(MessageStoreTest, PageListsTheDialogOldestFirstWithExactTimes) {
    const auto me = sn::ids::NewUuid();
    const auto peer = sn::ids::NewUuid();
    const auto stranger = sn::ids::NewUuid();
    const std::vector<std::string> texts{"first", "second", "third", "fourth", "fifth", "sixth"};
    std::vector<SendRequest> requests;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        const bool mine = i % 2 == 0;
        requests.push_back({mine ? me : peer, mine ? peer : me, texts[i], "r"});
    }
    const auto sent = MessageStore::Send(conn_, requests);  // one batch: listed in the order sent
    (void)MessageStore::Send(conn_, std::vector<SendRequest>{{me, stranger, "elsewhere", "r"}});
    // Times at the edges of the formatting: whole seconds, one microsecond either side, far dates.
    const std::vector<std::string> times{"2026-11-29 06:32:49.471123+00", "1970-01-01 00:00:00+00",
                                         "1969-12-31 23:59:59.999999+00", "2000-02-29 00:00:00.000001+00",
                                         "2099-12-31 23:59:59.999999+00", "2038-01-19 03:14:08.5+00"};
    for (std::size_t i = 0; i < sent.size(); ++i) {
        (void)conn_.Exec("UPDATE messages SET created_at = $2::timestamptz WHERE id = $1", sent[i].id, times[i]);
    }
    const auto page = MessageStore::Page(conn_, me, peer, std::nullopt, 100);
    ASSERT_EQ(page.messages.size(), sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
        const auto& listed = page.messages[i];
        EXPECT_EQ(listed.id, sent[i].id);
        EXPECT_EQ(listed.author_id, sent[i].author_id);
        EXPECT_EQ(listed.recipient_id, sent[i].recipient_id);
        EXPECT_EQ(listed.text, sent[i].text);
        EXPECT_EQ(listed.state, "PENDING_UNREAD");
        const auto exact = conn_.Exec("SELECT (extract(epoch FROM $1::timestamptz) * 1000000)::bigint", times[i]);
        EXPECT_EQ(listed.created_us, exact.Int(0, 0)) << times[i];
    }
    const auto older = MessageStore::Page(conn_, peer, me, sent[3].id, 2);  // the other side, paged
    ASSERT_EQ(older.messages.size(), 2U);
    EXPECT_EQ(older.messages[0].id, sent[1].id);
    EXPECT_EQ(older.messages[1].id, sent[2].id);
    EXPECT_EQ(older.messages[1].author_id, me);
}

// The page's own statement says whether MarkRead would touch anything of the reader's, so that a
// list finding nothing to mark needs no transaction (dialogs' list handler).
TEST_F(MessageStoreTest, PageTellsWhetherTheReaderHasAnythingToMark) {
    const auto me = sn::ids::NewUuid();
    const auto peer = sn::ids::NewUuid();
    const auto to_mark = [&](const std::string& reader, const std::string& other) {
        return MessageStore::Page(conn_, reader, other, std::nullopt, 100, true).to_mark;
    };
    EXPECT_TRUE(to_mark(me, peer));  // an empty page cannot tell
    (void)MessageStore::Send(conn_, std::vector<SendRequest>{{me, peer, "mine", "r"}});
    EXPECT_FALSE(to_mark(me, peer));  // my own message is the peer's to read
    EXPECT_TRUE(to_mark(peer, me));
    EXPECT_FALSE(MessageStore::Page(conn_, peer, me, std::nullopt, 100).to_mark);  // not asked

    const auto incoming = MessageStore::Send(conn_, std::vector<SendRequest>{{peer, me, "theirs", "r"}});
    EXPECT_TRUE(to_mark(me, peer));  // PENDING_UNREAD, not yet asked to follow
    EXPECT_EQ(MessageStore::MarkRead(conn_, me, peer, "r"), 1);
    EXPECT_FALSE(to_mark(me, peer));  // flagged to follow once counted
    (void)conn_.Exec("UPDATE messages SET state = 'UNREAD', read_requested = false WHERE id = $1", incoming.front().id);
    EXPECT_TRUE(to_mark(me, peer));  // counted and unread
    EXPECT_EQ(MessageStore::MarkRead(conn_, me, peer, "r"), 1);
    EXPECT_FALSE(to_mark(me, peer));  // PENDING_READ
    // Paged past everything: empty again, so it cannot tell.
    EXPECT_TRUE(
        MessageStore::Page(conn_, me, peer, std::string("00000000-0000-0000-0000-000000000000"), 100, true).to_mark);
}

// A batch of sends is one statement, but each message is its own saga: its own row, its own
// increment event (named after it, carrying its request's id), and its created_at as stored.
TEST_F(MessageStoreTest, SendGivesEachMessageOfABatchItsOwnEvent) {
    const auto a = sn::ids::NewUuid();
    const auto b = sn::ids::NewUuid();
    const auto c = sn::ids::NewUuid();
    const std::vector<SendRequest> requests{{a, b, "one", "req-1"}, {b, a, "two", "req-2"}, {a, c, "three", "req-3"}};
    const auto sent = MessageStore::Send(conn_, requests);
    ASSERT_EQ(sent.size(), requests.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
        const auto& message = sent[i];
        EXPECT_EQ(message.author_id, requests[i].author_id);
        EXPECT_EQ(message.recipient_id, requests[i].recipient_id);
        EXPECT_EQ(message.text, requests[i].text);
        EXPECT_EQ(message.state, "PENDING_UNREAD");
        const auto stored = conn_.Exec(
            "SELECT m.author_id::text, m.recipient_id::text, m.text, m.state, "
            "       (extract(epoch FROM m.created_at) * 1000000)::bigint, o.request_id, o.routing_key, o.payload "
            "FROM messages m JOIN outbox o ON o.event_id = m.event_id AND o.correlation_id = m.id::text "
            "WHERE m.id = $1",
            message.id);
        ASSERT_EQ(stored.Rows(), 1) << message.text;
        EXPECT_EQ(stored.String(0, 0), message.author_id);
        EXPECT_EQ(stored.String(0, 1), message.recipient_id);
        EXPECT_EQ(stored.String(0, 2), message.text);
        EXPECT_EQ(stored.String(0, 3), "PENDING_UNREAD");
        EXPECT_EQ(stored.Int(0, 4), message.created_us);
        EXPECT_EQ(stored.String(0, 5), requests[i].request_id);
        EXPECT_EQ(stored.String(0, 6), sn::saga::RoutingKey(message.author_id, message.recipient_id));
        EXPECT_NE(stored.String(0, 7).find(message.id), std::string::npos);
    }
    EXPECT_EQ(conn_.Exec("SELECT count(*) FROM outbox").Int(0, 0), 3);
    EXPECT_EQ(conn_.Exec("SELECT count(DISTINCT event_id) FROM messages").Int(0, 0), 3);
}

// A backlog of unread goes to PENDING_READ a chunk at a time, one decrement event a chunk, each
// chunk starting after the last one's ids: the reader's incoming index is read once over, not once
// a chunk (every chunk re-read the whole backlog, the chunks already marked included: a list
// marking 24,000 took 0.6-0.9 s).
TEST_F(MessageStoreTest, MarkReadTakesABacklogAChunkAnEventAndReadsItOnce) {
    const auto me = sn::ids::NewUuid();
    const auto peer = sn::ids::NewUuid();
    const auto chunk = static_cast<int>(sn::saga::kMaxMessagesPerEvent);
    const int backlog = 2 * chunk + chunk / 2;
    Insert(peer, me, "UNREAD", backlog);
    Insert(peer, me, "PENDING_UNREAD", 3);        // flagged, not marked
    Insert(me, peer, "UNREAD", 5);                // the peer's to read, not mine
    Insert(sn::ids::NewUuid(), me, "UNREAD", 7);  // another dialog
    const auto entries_before = IndexStat("messages_incoming_idx", "idx_tup_read");

    {
        sn::pg::Transaction tx(conn_);  // as the service runs it: a chunk's old entries stay in sight
        EXPECT_EQ(MessageStore::MarkRead(conn_, me, peer, "r"), backlog + 3);
        tx.Commit();
    }

    // The chunks read the backlog's entries once between them, the flag pass once more; re-reading
    // from the start, the chunks alone read 1,000 + 2,000 + 2,503.
    EXPECT_LT(IndexStat("messages_incoming_idx", "idx_tup_read") - entries_before, 2 * backlog + 20);
    const auto events = conn_.Exec(
        "SELECT m.event_id, count(*), min(m.id::text), max(m.id::text), "
        "       json_array_length(o.payload::json->'message_ids') "
        "FROM messages m JOIN outbox o ON o.event_id = m.event_id "
        "WHERE m.author_id = $1 AND m.recipient_id = $2 AND m.state = 'PENDING_READ' "
        "GROUP BY m.event_id, o.payload ORDER BY 3",
        peer, me);
    ASSERT_EQ(events.Rows(), 3);
    for (int i = 0; i < events.Rows(); ++i) {
        const auto size = i < 2 ? chunk : chunk / 2;  // chunks in id order, each whole but the last
        EXPECT_EQ(events.Int(i, 1), size) << i;
        EXPECT_EQ(events.Int(i, 4), size) << i;  // the event names exactly its chunk's messages
        if (i > 0) {
            EXPECT_LT(events.Text(i - 1, 3), events.Text(i, 2)) << i;
        }
    }
    EXPECT_EQ(conn_.Exec("SELECT count(*) FROM outbox").Int(0, 0), 3);
    const auto rest = conn_.Exec(
        "SELECT author_id = $1, state, read_requested, count(*) FROM messages WHERE state <> 'PENDING_READ' "
        "GROUP BY 1, 2, 3 ORDER BY 1, 2",
        me);
    ASSERT_EQ(rest.Rows(), 3);
    EXPECT_EQ(rest.Text(0, 1), "PENDING_UNREAD");  // the peer's, flagged
    EXPECT_TRUE(rest.Bool(0, 2));
    EXPECT_EQ(rest.Int(0, 3), 3);
    EXPECT_EQ(rest.Text(1, 1), "UNREAD");  // the other dialog's
    EXPECT_EQ(rest.Int(1, 3), 7);
    EXPECT_TRUE(rest.Bool(2, 0));  // mine, for the peer to read
    EXPECT_EQ(rest.Int(2, 3), 5);
}

// The sweeper re-sends each stuck event whole, the messages of a decrement together. The index it
// may find them by (the planner takes it when many sagas are in flight) holds only those: a
// message past its saga leaves no entry (migration 003).
TEST_F(MessageStoreTest, SweepResendsStuckEventsWholeAndOnlySagasInFlightAreIndexedByEvent) {
    const auto author = sn::ids::NewUuid();
    const auto recipient = sn::ids::NewUuid();
    Insert(author, recipient, "READ", 20000);
    const auto decrement = sn::ids::NewUuid();
    const auto increment = sn::ids::NewUuid();
    const auto stuck = [&](const char* state, const std::string& event, const char* age) {
        (void)conn_.Exec(
            "INSERT INTO messages (id, author_id, recipient_id, text, state, event_id, state_changed_at) "
            "VALUES (gen_random_uuid(), $1, $2, 'm', $3, $4, now() - $5::interval)",
            author, recipient, state, event, age);
    };
    for (int i = 0; i < 3; ++i) {
        stuck("PENDING_READ", decrement, "1 hour");
    }
    stuck("PENDING_UNREAD", increment, "1 hour");
    stuck("PENDING_UNREAD", sn::ids::NewUuid(), "0 seconds");  // in flight, not stuck yet
    // 20,005 rows under the primary key, 5 under the event: one leaf page against dozens.
    const auto pages = [&](const char* index) {
        return conn_.Exec("SELECT pg_relation_size($1::regclass) / 8192", index).Int(0, 0);
    };
    EXPECT_LE(pages("messages_event_idx"), 2);
    EXPECT_GT(pages("messages_pkey"), 50);

    EXPECT_EQ(MessageStore::Sweep(conn_, std::chrono::milliseconds(60'000)), 2);

    const auto sent =
        conn_.Exec("SELECT event_id, json_array_length(payload::json->'message_ids') FROM outbox ORDER BY 2 DESC");
    ASSERT_EQ(sent.Rows(), 2);
    EXPECT_EQ(sent.String(0, 0), decrement);
    EXPECT_EQ(sent.Int(0, 1), 3);
    EXPECT_EQ(sent.String(1, 0), increment);
    EXPECT_EQ(sent.Int(1, 1), 1);
}

// PostgreSQL's statistics lag: taken while nothing was pending, they say a pending row is rare.
// A reply must then still find its messages by id or event, not read the partial index of every
// pending row (which, behind a backlog, made each batch of 200 replies take a second).
TEST_F(MessageStoreTest, RepliesFindTheirMessagesWithoutReadingEveryPendingRow) {
    const auto author = sn::ids::NewUuid();
    const auto recipient = sn::ids::NewUuid();
    Insert(author, recipient, "READ", 20000);
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
