#!/usr/bin/python3
"""Test data generator: loads users with Russian names into the backend database, and optionally
dialogs with messages into the dialogs database and their unread counters into the counters
database, fast enough for millions of rows (COPY from a stream generated on the fly).

  scripts/gen_data.py [--users N] [--dialogs D --messages M] [--truncate] [--seed S]
  scripts/gen_data.py --users 0 --dialogs D --messages M      (dialogs between existing users)

Needs a running stack (`scripts/stack up`): one user is registered through POST /user/register
to get a real Argon2id hash of the shared password (--password, "password123"), which every
generated user gets, so any of them can log in.

- users: names from bench/names.py (one gender per row, feminine surnames for women), birthdates
  spread over 1950-2008, cities weighted by population, short biographies. Ids are UUIDv7 as
  libs/common makes them, with a counter inside each millisecond so they strictly ascend: every
  insert lands at the right edge of the primary key. created_at is the id's time.
- dialogs: D distinct pairs of this run's users (with --users 0: of up to 2D users already in
  the database, drawn at random) share M messages (each message to a random pair,
  from a random side of it). Everything is in a final saga state: the last author's trailing run
  of messages is UNREAD in half of the dialogs, the rest READ; counters get one unread_messages
  row per direction that has messages, equal to its UNREAD messages, so `sagactl check` holds.
- --truncate empties users (and friends/posts that reference them), messages and
  unread_messages first, in the loading transactions; without it rows are appended.

Each table's secondary indexes are dropped for the load and built again before the commit (one
sort instead of a random insert per row): measured here on 1M users, 2.8-3.5 s against 4.1-5.5 s
with users_name_prefix_idx kept, and 4.4 s against 6.4 s or more for 1M appended to 1M. The
loading transaction locks the table meanwhile, so do not load while something is measured.

Progress goes to stderr; the last stdout line is one JSON object with the counts and timings.
Env: BACKEND_URL, BACKEND_PG_DSN, DIALOGS_PG_DSN, COUNTERS_PG_DSN (defaults: the local stack).
Run with Debian's /usr/bin/python3 (python3-psycopg2, python3-requests).
"""
import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg2
import requests

REPO_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_DIR / "bench"))
import names  # noqa: E402  (bench/names.py, shared with bench/search.py)

BACKEND_URL = os.environ.get("BACKEND_URL", "http://127.0.0.1:8080").rstrip("/")
PG = "host=127.0.0.1 port=55432 user=postgres dbname="
BACKEND_DSN = os.environ.get("BACKEND_PG_DSN", PG + "backend")
DIALOGS_DSN = os.environ.get("DIALOGS_PG_DSN", PG + "dialogs")
COUNTERS_DSN = os.environ.get("COUNTERS_PG_DSN", PG + "counters")
SAGACTL = REPO_DIR / "build/tools/sagactl/sagactl"

# The tables' columns in order, as the migrations define them: checked against the database
# before loading, so a schema change stops this script instead of loading wrong data.
USER_COLUMNS = ("id", "first_name", "second_name", "birthdate", "biography", "city", "password_hash",
                "created_at", "followers")
MESSAGE_COLUMNS = ("id", "author_id", "recipient_id", "text", "state", "event_id", "read_requested",
                   "created_at", "read_at", "state_changed_at")
UNREAD_COLUMNS = ("id", "author_id", "recepient_id", "count")

BATCH = 10_000  # rows per generated chunk

# Biggest Russian cities with their population in thousands, the weight of each.
CITIES = [
    ("Москва", 13100), ("Санкт-Петербург", 5600), ("Новосибирск", 1630), ("Екатеринбург", 1540),
    ("Казань", 1310), ("Нижний Новгород", 1210), ("Красноярск", 1200), ("Челябинск", 1180),
    ("Самара", 1160), ("Уфа", 1160), ("Ростов-на-Дону", 1140), ("Омск", 1110), ("Краснодар", 1100),
    ("Воронеж", 1050), ("Пермь", 1030), ("Волгоград", 1020), ("Саратов", 900), ("Тюмень", 850),
    ("Тольятти", 680), ("Барнаул", 630), ("Махачкала", 620), ("Ижевск", 620), ("Хабаровск", 610),
    ("Ульяновск", 610), ("Иркутск", 610), ("Владивосток", 600), ("Ярославль", 570), ("Томск", 560),
    ("Ставрополь", 550), ("Набережные Челны", 550), ("Кемерово", 540), ("Оренбург", 540),
    ("Новокузнецк", 540), ("Балашиха", 520), ("Рязань", 520), ("Пенза", 500), ("Липецк", 500),
    ("Чебоксары", 500), ("Калининград", 490), ("Тула", 470), ("Киров", 470), ("Сочи", 470),
    ("Астрахань", 460), ("Курск", 440), ("Улан-Удэ", 440), ("Тверь", 420), ("Магнитогорск", 410),
    ("Сургут", 400), ("Брянск", 380), ("Иваново", 360), ("Якутск", 360), ("Владимир", 350),
    ("Белгород", 340), ("Калуга", 330), ("Смоленск", 310), ("Вологда", 310), ("Архангельск", 300),
    ("Орёл", 300), ("Петрозаводск", 280), ("Кострома", 270), ("Мурманск", 270), ("Тамбов", 260),
    ("Великий Новгород", 220), ("Сыктывкар", 220), ("Псков", 190), ("Абакан", 190),
    ("Южно-Сахалинск", 180), ("Норильск", 180), ("Петропавловск-Камчатский", 160), ("Кызыл", 120),
    ("Элиста", 100), ("Салехард", 50),
]

BIOGRAPHY_PARTS = [
    "Люблю путешествия", "Играю на гитаре", "Программист", "Учусь в университете", "Работаю врачом",
    "Фотограф-любитель", "Читаю фантастику", "Бегаю по утрам", "Воспитываю двоих детей",
    "Увлекаюсь шахматами", "Пеку пироги", "Рыбак со стажем", "Слушаю джаз", "Рисую акварелью",
    "Занимаюсь йогой", "Инженер-строитель", "Учитель истории", "Люблю кошек", "Собираю марки",
    "Хожу в походы", "Катаюсь на лыжах", "Пишу стихи", "Выращиваю помидоры на даче",
    "Изучаю английский", "Смотрю старое кино", "Езжу на велосипеде", "Бухгалтер", "Пою в хоре",
]
# A third of the users leave the biography empty; the others write one or two phrases.
BIOGRAPHIES = ([""] * 400 + [p + "." for p in BIOGRAPHY_PARTS]
               + [f"{a}. {b}." for a in BIOGRAPHY_PARTS for b in BIOGRAPHY_PARTS if a != b])

PHRASES = [
    "Привет!", "Привет, как дела?", "Всё хорошо, спасибо!", "Что нового?", "Созвонимся вечером?",
    "Давай завтра встретимся", "Во сколько?", "Договорились", "Отлично!", "Спасибо большое!",
    "Не за что", "Я уже выхожу", "Буду через десять минут", "Посмотри фотографии", "Ха-ха, смешно",
    "С днём рождения!", "Как прошли выходные?", "Ездили на дачу", "Скинь, пожалуйста, адрес",
    "Хорошо, до встречи", "Извини, не смогу", "Может, в субботу?", "Давно не виделись!",
    "Как там погода?", "У нас снег идёт", "Передавай привет родителям", "Спокойной ночи",
    "Доброе утро!", "Ты где?", "Уже дома", "Прочитал книгу, которую ты советовал", "Понравилось?",
    "Очень!", "Напиши, когда освободишься", "Ок", "Ладно", "Конечно", "Не знаю, подумаю",
]

BIRTH_FIRST, BIRTH_LAST = datetime.date(1950, 1, 1).toordinal(), datetime.date(2008, 12, 31).toordinal()
BIRTHDATES = [datetime.date.fromordinal(d).isoformat() for d in range(BIRTH_FIRST, BIRTH_LAST + 1)]


class Uuid7:
    """UUIDv7 as libs/common/src/ids.cpp makes them (48-bit Unix milliseconds, version 7, variant
    10, random tail), with a 12-bit counter in place of the first random bits (RFC 9562, method 1)
    so that ids made within one millisecond ascend too. created_at() is the last id's time."""

    def __init__(self, rng):
        self._rng = rng
        self._ms = 0
        self._seq = 0
        self._created = None

    def next(self):
        now = time.time_ns() // 1_000_000
        if now > self._ms:
            self._ms, self._seq, self._created = now, 0, None
        elif self._seq < 0xFFF:
            self._seq += 1
        else:  # 4096 ids in one millisecond: borrow the next one, as the RFC allows
            self._ms, self._seq, self._created = self._ms + 1, 0, None
        h = "%012x7%03x%016x" % (self._ms, self._seq, 0x8000000000000000 | self._rng.getrandbits(62))
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def created_at(self):
        if self._created is None:
            t = datetime.datetime.fromtimestamp(self._ms / 1000, datetime.timezone.utc)
            self._created = t.isoformat(sep=" ", timespec="milliseconds")
        return self._created


class ChunkReader:
    """A file-like read() over an iterator of text chunks, for cursor.copy_expert: PostgreSQL
    parses one chunk while Python makes the next, so the two cores share the work."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._buf = b""

    def read(self, size=-1):
        while not self._buf:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._buf = chunk.encode()
        if size < 0:
            size = len(self._buf)
        out, self._buf = self._buf[:size], self._buf[size:]
        return out


class Progress:
    """One progress line on stderr: rewritten in place on a terminal, else one line per tenth."""

    def __init__(self, what, total):
        self._what, self._total, self._t0, self._shown = what, total, time.monotonic(), -1

    def __call__(self, done):
        tenth = done * 10 // max(self._total, 1)
        line = f"{self._what}: {done}/{self._total} ({time.monotonic() - self._t0:.1f} s)"
        if sys.stderr.isatty():
            print("\r\033[K" + line, end="\n" if done >= self._total else "", file=sys.stderr, flush=True)
        elif tenth != self._shown:
            print(line, file=sys.stderr, flush=True)
        self._shown = tenth


def say(*args):
    print("gen_data:", *args, file=sys.stderr, flush=True)


def copy_in(cur, table, columns, chunks):
    """COPY text rows into table, in the caller's transaction, with its secondary indexes dropped
    and built again after (those behind a constraint, the primary key, stay). The values never
    hold a tab, newline or backslash, so they need no escaping; \\N is NULL."""
    cur.execute("SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                "WHERE x.indrelid = %s::regclass "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)", (table,))
    indexes = cur.fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", ChunkReader(chunks), size=1 << 20)
    for _, definition in indexes:
        cur.execute(definition)


def check_columns(cur, table, columns):
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "AND table_schema = 'public' ORDER BY ordinal_position", (table,))
    found = tuple(r[0] for r in cur.fetchall())
    if found != columns:
        sys.exit(f"gen_data: table {table} has columns {found}, this script writes {columns}: update it")


def shared_password_hash(cur, password):
    """Register one user through the API to get a real hash of the password, then delete it."""
    user = {"first_name": "Иван", "second_name": "Иванов", "birthdate": "1990-01-01", "password": password}
    try:
        r = requests.post(BACKEND_URL + "/user/register", json=user, timeout=10)
        r.raise_for_status()
    except requests.RequestException as e:
        sys.exit(f"gen_data: cannot register a user at {BACKEND_URL} (is the stack up?): {e}")
    user_id = r.json()["user_id"]
    cur.execute("DELETE FROM users WHERE id = %s RETURNING password_hash", (user_id,))
    return cur.fetchone()[0]


def user_rows(rng, ids, n, password_hash, out_ids):
    """Chunks of COPY lines for n users; their ids are appended to out_ids."""
    progress = Progress("users", n)
    city_names = [c for c, _ in CITIES]
    city_weights = [w for _, w in CITIES]
    for start in range(0, n, BATCH):
        k = min(BATCH, n - start)
        births = rng.choices(BIRTHDATES, k=k)
        cities = rng.choices(city_names, weights=city_weights, k=k)
        bios = rng.choices(BIOGRAPHIES, k=k)
        lines = []
        for (first, last), birth, city, bio in zip(names.sample_names(rng, k), births, cities, bios):
            uid = ids.next()
            out_ids.append(uid)
            lines.append(f"{uid}\t{first}\t{last}\t{birth}\t{bio}\t{city}\t{password_hash}\t{ids.created_at()}\t0\n")
        yield "".join(lines)
        progress(start + k)


def dialog_rows(rng, ids, user_ids, dialogs, messages, unread):
    """Chunks of COPY lines for the messages of `dialogs` random pairs of user_ids; fills unread
    {(author, recipient): UNREAD count} for every direction that has messages."""
    pairs = set()
    while len(pairs) < dialogs:
        a, b = rng.sample(user_ids, 2)
        pairs.add((min(a, b), max(a, b)))
    pairs = sorted(pairs)
    per_pair = [0] * dialogs
    for p in rng.choices(range(dialogs), k=messages):
        per_pair[p] += 1
    progress = Progress("messages", messages)
    lines, done = [], 0
    for (a, b), n in zip(pairs, per_pair):
        sides = rng.randbytes(n)
        authors = [a if s & 1 else b for s in sides]
        # Whoever wrote last has had everything before read (the peer answered it); the trailing
        # run of the last author is still unread in half of the dialogs.
        run = 0
        while run < n and authors[n - 1 - run] == authors[-1]:
            run += 1
        first_unread = n - run if rng.random() < 0.5 else n
        for j, author in enumerate(authors):
            recipient = b if author == a else a
            key = (author, recipient)
            unread[key] = unread.get(key, 0) + (j >= first_unread)
            mid, event_id = ids.next(), ids.next()
            at = ids.created_at()
            state, read_at = ("UNREAD", r"\N") if j >= first_unread else ("READ", at)
            lines.append(f"{mid}\t{author}\t{recipient}\t{rng.choice(PHRASES)}\t{state}\t{event_id}\tf\t"
                         f"{at}\t{read_at}\t{at}\n")
        if len(lines) >= BATCH:
            done += len(lines)
            yield "".join(lines)
            lines = []
            progress(done)
    done += len(lines)
    yield "".join(lines)
    progress(done)


def existing_users(cur, dialogs):
    """Up to 2 * dialogs ids of users already in the database, drawn at random (a scan of the
    table keeping the top of a random order; well under a second on a million users)."""
    cur.execute("SELECT id::text FROM users ORDER BY random() LIMIT %s", (max(2, 2 * dialogs),))
    return [r[0] for r in cur.fetchall()]


def analyze(dsn, table):
    """VACUUM ANALYZE: statistics for the planner, and the visibility map that lets the search's
    index-only scans skip the heap right after a bulk load (autovacuum would get there later)."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    conn.cursor().execute(f"VACUUM (ANALYZE) {table}")
    conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--dialogs", type=int, default=0,
                    help="pairs of users that talk: of this run's users, or of existing ones with --users 0")
    ap.add_argument("--messages", type=int, default=0, help="messages in all, spread over the dialogs")
    ap.add_argument("--truncate", action="store_true", help="empty the tables first (else append)")
    ap.add_argument("--password", default="password123", help="every generated user's password")
    ap.add_argument("--seed", type=int, default=None, help="for a repeatable data set (ids aside)")
    args = ap.parse_args()
    if args.users == 1 and args.dialogs:
        ap.error("--dialogs needs at least 2 --users of this run, or --users 0 for existing users")
    if args.users and args.dialogs > args.users * (args.users - 1) // 2:
        ap.error("more --dialogs than pairs of users")
    if args.truncate and args.dialogs and not args.users:
        ap.error("--truncate empties the users: --dialogs then needs --users of this run")
    if args.messages and not args.dialogs:
        ap.error("--messages needs --dialogs")
    rng = random.Random(args.seed)
    ids = Uuid7(rng)
    t_start = time.monotonic()
    result = {"users": args.users, "dialogs": args.dialogs, "messages": args.messages}
    with_dialogs = args.dialogs > 0 or args.truncate

    backend = psycopg2.connect(BACKEND_DSN)
    bcur = backend.cursor()
    check_columns(bcur, "users", USER_COLUMNS)
    if with_dialogs:
        dialogs_db, counters_db = psycopg2.connect(DIALOGS_DSN), psycopg2.connect(COUNTERS_DSN)
        dcur, ccur = dialogs_db.cursor(), counters_db.cursor()
        check_columns(dcur, "messages", MESSAGE_COLUMNS)
        check_columns(ccur, "unread_messages", UNREAD_COLUMNS)
        if args.truncate:
            # Emptying the tables under a saga in flight would leave a counter without its message.
            dcur.execute("SELECT count(*) FROM messages WHERE state IN ('PENDING_UNREAD', 'PENDING_READ')")
            if dcur.fetchone()[0]:
                sys.exit("gen_data: messages are in flight (PENDING_*): wait until `sagactl check` passes")
    user_ids = []
    if args.users:
        password_hash = shared_password_hash(bcur, args.password)
        backend.commit()
        # Users: one transaction, truncation included (a failed load leaves the old data).
        t0 = time.monotonic()
        if args.truncate:
            bcur.execute("TRUNCATE users CASCADE")  # friends and posts reference users
        copy_in(bcur, "users", USER_COLUMNS, user_rows(rng, ids, args.users, password_hash, user_ids))
        backend.commit()
        users_s = time.monotonic() - t0
        say(f"{args.users} users loaded in {users_s:.1f} s ({args.users / max(users_s, 1e-9):,.0f}/s)")
        result.update(seconds=round(users_s, 1), users_per_s=round(args.users / max(users_s, 1e-9)))
    dialog_users = user_ids
    if args.dialogs and not args.users:  # this run's users were checked against --dialogs above
        dialog_users = existing_users(bcur, args.dialogs)
        if args.dialogs > len(dialog_users) * (len(dialog_users) - 1) // 2:
            sys.exit(f"gen_data: {len(dialog_users)} users in the database: too few for {args.dialogs} dialogs")

    if with_dialogs:
        # Messages first, then their counters: in between, `sagactl check` sees counters missing.
        t0 = time.monotonic()
        unread = {}
        if args.truncate:
            dcur.execute("TRUNCATE messages")
            ccur.execute("TRUNCATE unread_messages")
        if args.dialogs:
            copy_in(dcur, "messages", MESSAGE_COLUMNS,
                    dialog_rows(rng, ids, dialog_users, args.dialogs, args.messages, unread))
            copy_in(ccur, "unread_messages", UNREAD_COLUMNS,
                    ["".join(f"{uuid.uuid4()}\t{a}\t{r}\t{n}\n" for (a, r), n in unread.items())])
        dialogs_db.commit()
        counters_db.commit()
        messages_s = time.monotonic() - t0
        say(f"{args.messages} messages in {args.dialogs} dialogs loaded in {messages_s:.1f} s, "
            f"{sum(unread.values())} unread")
        result.update(unread=sum(unread.values()), messages_seconds=round(messages_s, 1))

    t0 = time.monotonic()
    if args.users:
        analyze(BACKEND_DSN, "users")
    if with_dialogs:
        analyze(DIALOGS_DSN, "messages")
        analyze(COUNTERS_DSN, "unread_messages")
    result["analyze_seconds"] = round(time.monotonic() - t0, 1)

    if user_ids:  # the copied hash works: a generated user logs in with the shared password
        r = requests.post(BACKEND_URL + "/login", json={"id": user_ids[0], "password": args.password}, timeout=10)
        result["login_ok"] = r.status_code == 200
        say(f"login of {user_ids[0]} with the shared password: HTTP {r.status_code}")
    if args.dialogs and SAGACTL.exists():
        check = subprocess.run([str(SAGACTL), "check"], capture_output=True, text=True)
        result["sagactl_check_ok"] = check.returncode == 0
        say(f"sagactl check: exit {check.returncode} {check.stdout.strip()[:300]}")
    result["total_seconds"] = round(time.monotonic() - t_start, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
