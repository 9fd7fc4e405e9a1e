#!/usr/bin/env bash
# The figure of docs/performance.md item 35: pgbench of one message's saga writes (insert as
# PENDING_UNREAD, then the reply's move to UNREAD) on two scratch copies of dialogs' messages
# table with all its indexes and a million READ rows, one with the event index on every row (as
# before migration 003), one with it partial on the pending states (as after). The copies live in
# a scratch database, dropped at the end; runs alternate, each ROUNDS times.
#
#   bench/event_index.sh [SECONDS] [ROUNDS]      (10 and 2; the stack's PostgreSQL must be up)
#
# Prints "full: <pairs/s>" and "partial: <pairs/s>" per round (pgbench -M prepared -c 4 -j 2).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}" rounds="${2:-2}"
PG_BIN=/usr/lib/postgresql/15/bin
PGBENCH="${PGBENCH:-$(command -v pgbench || echo "$PG_BIN/pgbench")}"
DB=bench_event_index
psql() { scripts/stack psql "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"; psql postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null' EXIT

psql postgres -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
for variant in full partial; do
    predicate=""
    [ "$variant" = partial ] && predicate="WHERE state IN ('PENDING_UNREAD', 'PENDING_READ')"
    # The table and indexes of services/dialogs/migrations (001-003), the event index as named.
    psql "$DB" -q <<SQL
CREATE TABLE m_$variant (
    id uuid PRIMARY KEY, author_id uuid NOT NULL, recipient_id uuid NOT NULL, text text NOT NULL,
    state text NOT NULL DEFAULT 'PENDING_UNREAD', event_id uuid NOT NULL,
    read_requested boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz, state_changed_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX ON m_$variant (LEAST(author_id, recipient_id), GREATEST(author_id, recipient_id), id);
CREATE INDEX ON m_$variant (recipient_id, author_id, id) WHERE state IN ('PENDING_UNREAD', 'UNREAD');
CREATE INDEX ON m_$variant (event_id) $predicate;
CREATE INDEX ON m_$variant (state_changed_at) WHERE state IN ('PENDING_UNREAD', 'PENDING_READ');
INSERT INTO m_$variant (id, author_id, recipient_id, text, state, event_id)
SELECT gen_random_uuid(), a, b, 'background', 'READ', gen_random_uuid()
FROM (SELECT gen_random_uuid() a, gen_random_uuid() b FROM generate_series(1, 10000)) d, generate_series(1, 100);
VACUUM ANALYZE m_$variant;
SQL
    cat >"$work/$variant.sql" <<SQL
INSERT INTO m_$variant (id, author_id, recipient_id, text, event_id)
VALUES (gen_random_uuid(), '00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002', 'hello', gen_random_uuid())
RETURNING id \gset
UPDATE m_$variant SET state = 'UNREAD', state_changed_at = now() WHERE id = :id AND (state = 'PENDING_UNREAD') IS TRUE;
SQL
done

for _ in $(seq "$rounds"); do
    for variant in full partial; do
        tps=$("$PGBENCH" -n -M prepared -c 4 -j 2 -T "$seconds" -f "$work/$variant.sql" \
            -h "${PG_HOST:-127.0.0.1}" -p "${PG_PORT:-55432}" -U postgres "$DB" | awk '/^tps/ {print $3}')
        echo "$variant: $tps pairs/s"
    done
done
