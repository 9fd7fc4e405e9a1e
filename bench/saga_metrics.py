#!/usr/bin/python3
"""Helpers for scripts/bench_saga.sh (Debian's /usr/bin/python3: needs python3-requests).

  users   --base URL --users N --out FILE        register+login 2N users, write the pairs file
  snap    OUT URL...                             save the metrics of every URL (summed) as JSON
  hist    BEFORE AFTER NAME                      p50/p99 (ms) of a histogram from the bucket deltas
  gauge   NAME URL...                            sum of a gauge over the URLs (blank if unreachable)
  peek    BEFORE URL...                          one-line progress facts (sends, in-flight, backlog)
  wrk     WRK_OUTPUT                             the BENCH_JSON line of a wrk run, as JSON
  report  ROWS_JSONL OUT_JSON [META_JSON]        print the table, write the JSON
"""
import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import requests

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')


def scrape(urls):
    """{'name{labels}': value} summed over the URLs; unreachable URLs are skipped."""
    out = {}
    for url in urls:
        try:
            text = requests.get(url, timeout=3).text
        except requests.RequestException:
            continue
        for line in text.splitlines():
            m = SAMPLE.match(line)
            if not m or line.startswith('#'):
                continue
            key = m.group(1) + (m.group(2) or '')
            try:
                out[key] = out.get(key, 0.0) + float(m.group(3))
            except ValueError:
                pass
    return out


def buckets(snap, name):
    res = []
    for key, val in snap.items():
        m = re.match(re.escape(name) + r'_bucket\{.*le="([^"]+)".*\}$', key)
        if m:
            res.append((float('inf') if m.group(1) == '+Inf' else float(m.group(1)), val))
    return sorted(res)


def quantile(deltas, q):
    """deltas: sorted [(le, cumulative count)]. Linear interpolation inside the bucket, like
    Prometheus' histogram_quantile; a quantile in the +Inf bucket reports the last finite bound."""
    total = deltas[-1][1] if deltas else 0
    if total <= 0:
        return None
    target = q * total
    prev_le, prev_cum = 0.0, 0.0
    for le, cum in deltas:
        if cum >= target:
            if le == float('inf'):
                return prev_le
            if cum == prev_cum:
                return le
            return prev_le + (le - prev_le) * (target - prev_cum) / (cum - prev_cum)
        prev_le, prev_cum = le, cum
    return prev_le


def cmd_hist(before_file, after_file, name):
    before, after = (json.load(open(f)) for f in (before_file, after_file))
    b = dict(buckets(before, name))
    deltas = [(le, cum - b.get(le, 0.0)) for le, cum in buckets(after, name)]
    count = deltas[-1][1] if deltas else 0
    finite = [le for le, _ in deltas if le != float('inf')]
    over = count - ([c for le, c in deltas if le == finite[-1]][0] if finite else 0)
    res = {'count': int(count), 'over_max_bucket': int(over)}
    for q in (0.5, 0.99):
        v = quantile(deltas, q)
        res['p%d_ms' % round(q * 100)] = None if v is None else round(v * 1000, 2)
    s = after.get(name + '_sum', 0.0) - before.get(name + '_sum', 0.0)
    res['mean_ms'] = round(s / count * 1000, 2) if count else None
    print(json.dumps(res))


def cmd_users(args):
    base, n, out = args['--base'], int(args['--users']), args['--out']
    tag = time.strftime('%H%M%S')
    sess = requests.Session()
    sess.mount('http://', requests.adapters.HTTPAdapter(pool_maxsize=16))

    def make(i):
        pw = 'bench-pass-%d' % i
        r = sess.post(base + '/user/register', timeout=30, json={
            'first_name': 'Bench%s' % tag, 'second_name': 'User%d' % i,
            'birthdate': '1990-01-01', 'password': pw, 'city': 'Bench'})
        r.raise_for_status()
        uid = r.json()['user_id']
        r = sess.post(base + '/login', json={'id': uid, 'password': pw}, timeout=30)
        r.raise_for_status()
        return uid, r.json()['token']

    with ThreadPoolExecutor(8) as pool:
        users = list(pool.map(make, range(2 * n)))
    with open(out, 'w') as f:
        for k in range(n):
            (s_id, s_tok), (r_id, r_tok) = users[2 * k], users[2 * k + 1]
            f.write('%s %s %s %s\n' % (s_id, s_tok, r_id, r_tok))


def cmd_peek(before_file, urls):
    before, now = json.load(open(before_file)), scrape(urls)

    def d(key):
        return now.get(key, 0.0) - before.get(key, 0.0)

    published = d('saga_events_published_total')
    pu = now.get('saga_messages_in_flight{state="PENDING_UNREAD"}', 0)
    pr = now.get('saga_messages_in_flight{state="PENDING_READ"}', 0)
    unread_done = d('saga_send_to_unread_seconds_count')
    read_done = d('saga_read_to_read_seconds_count')
    # in-flight comes from the sweeper (refreshed every SWEEPER_INTERVAL_MS), so it lags
    print('published=%d unread-done=%d read-done=%d backlog=%d in-flight(sweeper) U/R=%d/%d' % (
        published, unread_done, read_done, now.get('saga_outbox_backlog', 0), pu, pr))


def cmd_wrk(path):
    for line in open(path):
        if line.startswith('BENCH_JSON '):
            print(line[len('BENCH_JSON '):].strip())
            return
    sys.exit('no BENCH_JSON line in %s' % path)


def fmt(v, nd=1):
    if v is None or v == '':
        return '-'
    return ('%.' + str(nd) + 'f') % v if isinstance(v, (int, float)) else str(v)


def cmd_report(rows_file, out_file, meta_file=None):
    rows = [json.loads(l) for l in open(rows_file) if l.strip()]
    meta = json.load(open(meta_file)) if meta_file else {}
    cols = [('scenario', 'scenario', 16), ('requests', 'requests', 9), ('req/s', 'rps', 8),
            ('p50 ms', 'p50_ms', 8), ('p99 ms', 'p99_ms', 8), ('non2xx', 'non2xx', 7),
            ('saga n', 'saga_count', 7), ('saga p50', 'saga_p50_ms', 9), ('saga p99', 'saga_p99_ms', 9),
            ('drain s', 'drain_s', 8), ('backlog d/c', 'backlog', 12), ('cpu%', 'cpu_busy_pct', 5),
            ('wrk cpu%', 'wrk_cpu_pct', 8)]
    print(' '.join(h.rjust(w) if i else h.ljust(w) for i, (h, _, w) in enumerate(cols)))
    for r in rows:
        cells = []
        for i, (_, k, w) in enumerate(cols):
            v = r.get(k)
            if k == 'backlog':
                v = '-' if r.get('backlog_dialogs') is None else '%s/%s' % (
                    fmt(r.get('backlog_dialogs'), 0), fmt(r.get('backlog_counters'), 0))
            elif k in ('saga_p50_ms', 'saga_p99_ms') and v is not None and r.get('saga_over_max_bucket'):
                q = 0.5 if k == 'saga_p50_ms' else 0.99
                # the quantile fell in +Inf: the value is only a lower bound (the last finite bucket)
                v = ('>=' if r['saga_over_max_bucket'] > (1 - q) * r['saga_count'] else '') + fmt(v, 1)
            elif k in ('requests', 'non2xx', 'saga_count', 'cpu_busy_pct', 'wrk_cpu_pct'):
                v = fmt(v, 0)
            else:
                v = fmt(v, 1 if k != 'drain_s' else 2) if k != 'scenario' else v
            cells.append(v.ljust(w) if i == 0 else v.rjust(w))
        print(' '.join(cells))
    with open(out_file, 'w') as f:
        json.dump(dict(meta, scenarios=rows), f, indent=2)
        f.write('\n')


def main(argv):
    cmd, rest = argv[1], argv[2:]
    if cmd == 'users':
        cmd_users(dict(zip(rest[::2], rest[1::2])))
    elif cmd == 'snap':
        with open(rest[0], 'w') as f:
            json.dump(scrape(rest[1:]), f)
    elif cmd == 'hist':
        cmd_hist(*rest)
    elif cmd == 'gauge':
        snap = scrape(rest[1:])
        print('' if rest[0] not in snap else ('%g' % snap[rest[0]]))
    elif cmd == 'peek':
        cmd_peek(rest[0], rest[1:])
    elif cmd == 'wrk':
        cmd_wrk(rest[0])
    elif cmd == 'report':
        cmd_report(*rest)
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main(sys.argv)
