"""Saga measurement helpers for scripts/bench.py (Debian's /usr/bin/python3: python3-requests).

- scrape(urls): the Prometheus /metrics of the services, summed over the URLs (second copies
  included, unreachable ones skipped);
- histogram_delta(before, after, name): count, p50/p99/p99.9 and mean (ms) of a histogram from the
  bucket deltas between two scrapes, e.g. dialogs' saga_send_to_unread_seconds;
- make_pairs(base, n, path): registers and logs in 2n users through the API and writes the pairs
  file the bench/*.lua scripts read ("sender_id sender_token recipient_id recipient_token").
"""
import re
import time
from concurrent.futures import ThreadPoolExecutor

import requests

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')
QUANTILES = (0.5, 0.99, 0.999)


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
    """Sorted [(le, cumulative count)] of histogram NAME in a scrape."""
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


def histogram_delta(before, after, name):
    """{count, over_max_bucket, p50_ms, p99_ms, p999_ms, mean_ms} of NAME between two scrapes.
    over_max_bucket > 0 means the highest quantiles may be lower bounds (the last finite bucket)."""
    b = dict(buckets(before, name))
    deltas = [(le, cum - b.get(le, 0.0)) for le, cum in buckets(after, name)]
    count = deltas[-1][1] if deltas else 0
    finite = [c for le, c in deltas if le != float('inf')]
    res = {'count': int(count), 'over_max_bucket': int(count - (finite[-1] if finite else 0))}
    for q in QUANTILES:
        v = quantile(deltas, q)
        res['p%s_ms' % ('%g' % (q * 100)).replace('.', '')] = None if v is None else round(v * 1000, 2)
    s = after.get(name + '_sum', 0.0) - before.get(name + '_sum', 0.0)
    res['mean_ms'] = round(s / count * 1000, 2) if count else None
    return res


def make_pairs(base, n, path, tag='Bench'):
    """Register and log in 2n users (8 at a time) and write the pairs file; returns the pairs."""
    stamp = time.strftime('%H%M%S')
    sess = requests.Session()
    sess.mount('http://', requests.adapters.HTTPAdapter(pool_maxsize=16))

    def make(i):
        pw = 'bench-pass-%d' % i
        r = sess.post(base + '/user/register', timeout=30, json={
            'first_name': '%s%s' % (tag, stamp), 'second_name': 'User%d' % i,
            'birthdate': '1990-01-01', 'password': pw, 'city': 'Bench'})
        r.raise_for_status()
        uid = r.json()['user_id']
        r = sess.post(base + '/login', json={'id': uid, 'password': pw}, timeout=30)
        r.raise_for_status()
        return uid, r.json()['token']

    with ThreadPoolExecutor(8) as pool:
        users = list(pool.map(make, range(2 * n)))
    pairs = [users[2 * k] + users[2 * k + 1] for k in range(n)]
    with open(path, 'w') as f:
        for p in pairs:
            f.write('%s %s %s %s\n' % p)
    return pairs

