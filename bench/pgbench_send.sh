#!/usr/bin/env bash
# Baseline: PostgreSQL running exactly the transaction of dialogs' POST /dialog/{id}/send, with
# nothing else in the way (no HTTP, no gateway, no service code), so the send rate can be quoted
# as a fraction of it.
#
#   bench/pgbench_send.sh --clients C --seconds S
#
# The statement, as services/dialogs/src/storage/messages.cpp (MessageStore::Send) and
# libs/saga/src/outbox.cpp (EnqueueWith) run it: ONE prepared statement, atomic on its own, one
# round trip:
#   WITH outbox_row AS (INSERT INTO outbox (event_id, exchange, routing_key, correlation_id,
#                       request_id, payload) ... ON CONFLICT (event_id) DO NOTHING)
#   INSERT INTO messages (id, author_id, recipient_id, text, event_id) ... RETURNING to_char(created_at ...)
# It runs against scratch copies of the two tables (CREATE TABLE ... (LIKE ... INCLUDING ALL): same
# columns, defaults, checks and indexes) in the dialogs database, with the NOTIFY trigger mirrored on
# a channel nobody listens to when the live outbox has one, so the running system is not disturbed:
# the relay never sees these rows. The copies are dropped at the end, also on failure or Ctrl-C.
#
# Differences from the service, all small next to the inserts, their index updates and the commit:
# ids are gen_random_uuid() (v4) where the service sends UUIDv7 parameters; the ids, routing key and
# event payload are computed by the server where the service builds them itself (and binds the
# outbox columns as one-element arrays); the scratch outbox only grows (the relay deletes from the
# live one as it publishes).
#
# Env: PG_HOST (127.0.0.1), PG_PORT (55432), PG_USER (postgres), PG_DB (dialogs), PGBENCH,
#      SEND_NOTIFY=off to leave the NOTIFY trigger out (what the commit-time NOTIFY costs: every
#      notifying commit takes one database-wide lock, so their commits do not overlap).
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

# The live outbox's NOTIFY trigger, mirrored only if it is there (its channel is what the relay hears).
NOTIFY="$(psql_ -tAc "SELECT count(*) > 0 FROM pg_trigger WHERE tgrelid = 'outbox'::regclass AND NOT tgisinternal")"
if [ "${SEND_NOTIFY:-}" = off ]; then NOTIFY=f; fi
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
    say "note: no NOTIFY trigger on the scratch outbox (SEND_NOTIFY=${SEND_NOTIFY:-}, or the live outbox has none)"
fi

# The request id is 32 characters, as the gateway's generated X-Request-ID. The colons of the
# service's to_char format are written \x3a: pgbench would take ":MI" for a variable, even in quotes.
cat >"$WORK/send.sql" <<SQL
\set n random(1, 2000000000)
WITH ids AS (
    SELECT gen_random_uuid() AS id, gen_random_uuid() AS author, gen_random_uuid() AS recipient,
           gen_random_uuid() AS event),
outbox_row AS (
    INSERT INTO $OUTBOX (event_id, exchange, routing_key, correlation_id, request_id, payload)
    SELECT event, 'unreadMessages', author || '.' || recipient, id::text, 'pgbenchsend0123456789abcdef01234',
           '{"event_id":"' || event || '","action":"increment","author_id":"' || author ||
           '","recipient_id":"' || recipient || '","message_ids":["' || id || '"]}'
    FROM ids
    ON CONFLICT (event_id) DO NOTHING)
INSERT INTO $MESSAGES (id, author_id, recipient_id, text, event_id)
    SELECT id, author, recipient, 'pgbench_send message ' || :n, event FROM ids
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
