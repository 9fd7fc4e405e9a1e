#!/usr/bin/env bash
# Baseline: PostgreSQL running exactly the transaction of dialogs' POST /dialog/{id}/send, with
# nothing else in the way (no HTTP, no gateway, no service code), so the send rate can be quoted
# as a fraction of it.
#
#   bench/pgbench_send.sh --clients C --seconds S
#
# The send, as services/dialogs/src/storage/messages.cpp (MessageStore::Send) and libs/saga
# (EnqueueWith, outbox.cpp) run it since f685bc3: ONE statement, no BEGIN/COMMIT around it (it
# commits on its own), so one round trip. (Since 05a3042 dialogs puts the sends that queue up
# meanwhile in the same statement, one array element each; pgbench here writes one message per
# transaction, the baseline the issue names.)
#   WITH outbox_row AS (INSERT INTO outbox (event_id, exchange, routing_key, correlation_id,
#                       request_id, payload) SELECT * FROM unnest($1::uuid[], ... $6::text[])
#                       ON CONFLICT (event_id) DO NOTHING)
#   INSERT INTO messages (id, author_id, recipient_id, text, event_id) VALUES ($7, ..., $11)
#   RETURNING to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
# (Until f903e4d the outbox also had an AFTER INSERT trigger doing pg_notify('outbox', '') at
# commit; it is mirrored when the live outbox has a trigger, see SEND_NOTIFY.)
#
# It runs against scratch copies of the two tables (CREATE TABLE ... (LIKE ... INCLUDING ALL): same
# columns, defaults, checks and indexes) in the dialogs database, so the running system is not
# disturbed: the relay never sees these rows. The copies are dropped at the end, also on failure
# or Ctrl-C.
#
# pgbench cannot make strings, so the statement differs in how its values arrive: the service
# sends UUIDv7 ids and the event's routing key and JSON payload as parameters (the outbox columns
# as one-element arrays); here a first CTE draws gen_random_uuid() (v4) ids and the server
# concatenates the same routing key and payload, and both inserts select from it. The work that
# costs (two heap rows, six index entries, the WAL and the commit) is the same. The scratch outbox
# only grows, where the relays delete from the live one as they publish.
#
# Env: PG_HOST (127.0.0.1), PG_PORT (55432), PG_USER (postgres), PG_DB (dialogs), PGBENCH,
#      SEND_NOTIFY: auto (default: a NOTIFY trigger on the scratch outbox when the live outbox has
#      any trigger), on, off. With it every commit takes one cluster-wide lock, so commits stop
#      overlapping: on/off shows what it costs.
# Progress on stderr; the last stdout line is one JSON object:
#   {"baseline":"pgbench_send","clients":C,"tps":..,"latency_ms":..,"latency_p50_ms":..,...}
set -euo pipefail

CLIENTS=""
SECONDS_=""
usage() { echo "usage: $0 --clients C --seconds S" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --clients) CLIENTS="${2:-}"; shift 2 || usage ;;
        --seconds) SECONDS_="${2:-}"; shift 2 || usage ;;
        -h|--help) usage ;;
        *) echo "pgbench_send: unknown argument $1" >&2; usage ;;
    esac
done
[[ "$CLIENTS" =~ ^[1-9][0-9]*$ ]] || usage
[[ "$SECONDS_" =~ ^[1-9][0-9]*$ ]] || usage

PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-55432}"
PG_USER="${PG_USER:-postgres}"
PG_DB="${PG_DB:-dialogs}"
PG_BIN=/usr/lib/postgresql/15/bin
PGBENCH="${PGBENCH:-$(command -v pgbench || echo "$PG_BIN/pgbench")}"
PSQL="$(command -v psql || echo "$PG_BIN/psql")"
THREADS=$((CLIENTS < 2 ? CLIENTS : 2))

say() { echo "pgbench_send: $*" >&2; }
psql_() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" "$@"; }

# Per-run names, so two runs (or a run and a leftover) never share a table.
TAG="bench_send_$$"
MESSAGES="${TAG}_messages"
OUTBOX="${TAG}_outbox"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/pgbench_send.XXXXXX")"

cleanup() {
    psql_ -c "DROP TABLE IF EXISTS $MESSAGES, $OUTBOX; DROP FUNCTION IF EXISTS ${TAG}_notify();" >/dev/null 2>&1 ||
        say "warning: could not drop $MESSAGES / $OUTBOX / ${TAG}_notify() in database $PG_DB"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A NOTIFY trigger like the one the live outbox had, on a channel nobody listens to.
case "${SEND_NOTIFY:-auto}" in
    auto) NOTIFY="$(psql_ -tAc "SELECT count(*) > 0 FROM pg_trigger WHERE tgrelid = 'outbox'::regclass AND NOT tgisinternal")" ;;
    on) NOTIFY=t ;;
    off) NOTIFY=f ;;
    *) echo "pgbench_send: SEND_NOTIFY is auto, on or off" >&2; exit 2 ;;
esac
psql_ <<SQL
CREATE TABLE $MESSAGES (LIKE messages INCLUDING ALL);
CREATE TABLE $OUTBOX (LIKE outbox INCLUDING ALL);
-- LIKE copies the default nextval('outbox_id_seq'): give the copy a sequence of its own.
CREATE SEQUENCE ${OUTBOX}_id_seq OWNED BY $OUTBOX.id;
ALTER TABLE $OUTBOX ALTER COLUMN id SET DEFAULT nextval('${OUTBOX}_id_seq');
SQL
if [ "$NOTIFY" = t ]; then
    psql_ <<SQL
CREATE FUNCTION ${TAG}_notify() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    PERFORM pg_notify('${TAG}', '');
    RETURN NULL;
END \$\$;
CREATE TRIGGER ${TAG}_notify AFTER INSERT ON $OUTBOX FOR EACH STATEMENT EXECUTE FUNCTION ${TAG}_notify();
SQL
else
    say "no NOTIFY trigger on the scratch outbox (SEND_NOTIFY=${SEND_NOTIFY:-auto})"
fi

# The request id is 32 characters, as the gateway's generated X-Request-ID. The colons of the
# service's to_char format are written \x3a: pgbench would take ":MI" for a variable, even in quotes.
cat >"$WORK/send.sql" <<SQL
\set n random(1, 2000000000)
WITH ids AS (
    SELECT gen_random_uuid() AS message_id, gen_random_uuid() AS event_id,
           gen_random_uuid() AS author_id, gen_random_uuid() AS recipient_id
), outbox_row AS (
    INSERT INTO $OUTBOX (event_id, exchange, routing_key, correlation_id, request_id, payload)
    SELECT event_id, 'unreadMessages', author_id || '.' || recipient_id, message_id::text,
           'pgbenchsend0123456789abcdef01234',
           '{"event_id":"' || event_id || '","action":"increment","author_id":"' || author_id ||
           '","recipient_id":"' || recipient_id || '","message_ids":["' || message_id || '"]}'
    FROM ids
    ON CONFLICT (event_id) DO NOTHING
)
INSERT INTO $MESSAGES (id, author_id, recipient_id, text, event_id)
SELECT message_id, author_id, recipient_id, 'pgbench_send message ' || :n, event_id FROM ids
RETURNING to_char(created_at AT TIME ZONE 'UTC', E'YYYY-MM-DD"T"HH24\x3aMI\x3aSS.US"Z"');
SQL

say "pgbench -c $CLIENTS -j $THREADS -T $SECONDS_ on $PG_HOST:$PG_PORT/$PG_DB (tables $MESSAGES, $OUTBOX; notify=$NOTIFY)"
# -l: one line per transaction (its latency in us is field 3), for the percentiles.
(cd "$WORK" && "$PGBENCH" -n -M prepared -c "$CLIENTS" -j "$THREADS" -T "$SECONDS_" -f send.sql \
    -l --log-prefix=tx -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB") >"$WORK/pgbench.out" 2>"$WORK/pgbench.err" || {
    cat "$WORK/pgbench.out" "$WORK/pgbench.err" >&2
    echo "{\"baseline\":\"pgbench_send\",\"clients\":$CLIENTS,\"error\":\"pgbench failed\"}"
    exit 1
}
cat "$WORK/pgbench.out" >&2
ROWS="$(psql_ -tAc "SELECT (SELECT count(*) FROM $MESSAGES) || ' ' || (SELECT count(*) FROM $OUTBOX)")"

/usr/bin/python3 - "$WORK" "$CLIENTS" "$THREADS" "$SECONDS_" "$NOTIFY" "$ROWS" <<'PY'
import glob, json, re, sys

work, clients, threads, seconds, notify, rows = sys.argv[1:]
out = open(f"{work}/pgbench.out").read()

def grab(pattern, cast=float):
    m = re.search(pattern, out, re.M)
    return cast(m.group(1)) if m else None

latencies = []
for path in glob.glob(f"{work}/tx.*"):
    with open(path) as f:
        for line in f:
            fields = line.split()
            # client_id transaction_no time script_no time_epoch time_us [schedule_lag]; time "failed"/"skipped" otherwise
            if len(fields) >= 3 and fields[2].isdigit():
                latencies.append(int(fields[2]) / 1000.0)
latencies.sort()

def pct(p):
    if not latencies:
        return None
    k = max(0, min(len(latencies) - 1, int(-(-p * len(latencies) // 1)) - 1))
    return round(latencies[k], 3)

messages, outbox = (int(x) for x in rows.split())
tps = grab(r"^tps = ([0-9.]+) \(without initial connection time\)")
result = {
    "baseline": "pgbench_send",
    "clients": int(clients),
    "tps": round(tps, 1) if tps is not None else None,
    "latency_ms": grab(r"^latency average = ([0-9.]+) ms"),
    "latency_p50_ms": pct(0.50),
    "latency_p99_ms": pct(0.99),
    "threads": int(threads),
    "seconds": int(seconds),
    "transactions": grab(r"^number of transactions actually processed: (\d+)", int),
    "failed": grab(r"^number of failed transactions: (\d+)", int),
    "notify": notify == "t",
    "rows_messages": messages,
    "rows_outbox": outbox,
}
print(json.dumps(result))
PY
