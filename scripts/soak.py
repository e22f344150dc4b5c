"""Soak: mixed load (store, get, recall, link) at a steady rate for minutes, against a server this
script starts on a fresh data directory. It prints, per minute, the operations, the errors and the
p50/p99 latency, and the server's resident memory; it fails on any error or when resident memory
grows by more than --rss-bound-mib between the end of the first (warm-up) minute and the end.

The data set is bounded so that memory can plateau: stores write into a pool of --pool
coordinates (filled before the clock starts, so every store is an update), links join pool
members. Run by hand (10 minutes is the reliability issue's soak):

    swift build -c release --product soma
    python3 scripts/soak.py --binary .build/release/soma --minutes 10 --rate 100
"""
import argparse
import os
import random
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crash_drill import request, start  # noqa: E402

TOPICS = ["budget review", "falcon launch", "release plan", "customer call", "agent memory", "lunch order", "travel notes"]
# Operation mix: weights and the statuses that count as success.
OPERATIONS = {"store": (40, {200, 201}), "get": (30, {200}), "recall": (20, {200}), "link": (10, {200, 201})}


def resident_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def quantile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def payload(coord):
    topic = random.choice(TOPICS)
    return {"text": f"{topic} note {random.randint(0, 10**6)} at {coord}", "topic": topic}


def operation(port, pool):
    kind = random.choices(list(OPERATIONS), weights=[weight for weight, _ in OPERATIONS.values()])[0]
    coord = random.choice(pool)
    if kind == "store":
        return kind, lambda: request(port, "POST", "/v1/memories", {"coord": coord, "payload": payload(coord)})
    if kind == "get":
        return kind, lambda: request(port, "GET", f"/v1/memories/{coord}")
    if kind == "recall":
        return kind, lambda: request(port, "POST", "/v1/memories/search", {"query": random.choice(TOPICS), "top_k": 10})
    other = random.choice(pool)
    return kind, lambda: request(port, "POST", "/v1/links", {"from": coord, "to": other, "type": random.choice(["related", "follows"])})


def worker(port, pool, interval, until, samples, lock):
    next_at = time.time() + random.random() * interval
    while next_at < until:
        time.sleep(max(0.0, next_at - time.time()))
        kind, call = operation(port, pool)
        started = time.time()
        try:
            status, _ = call()
        except Exception as error:  # a refused connection or an error status is an error, not a pause
            status = getattr(error, "code", None) or type(error).__name__
        with lock:
            samples.append((started, kind, time.time() - started, status in OPERATIONS[kind][1], status))
        next_at += interval


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/soma")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=100, help="operations per second, all kinds together")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--pool", type=int, default=5000, help="coordinates stores and links use")
    parser.add_argument("--rss-bound-mib", type=float, default=48, help="allowed growth after the first minute")
    parser.add_argument("--port", type=int, default=9597)
    parser.add_argument("--postgres-url", help="keep the records in this (empty) PostgreSQL database instead of SQLite")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="soma-soak-")
    extra = {"POSTGRES_URL": args.postgres_url} if args.postgres_url else {}
    server = start(args.binary, args.port, data_dir, extra)
    try:
        pool = [f"{i % 100},{i // 100}" for i in range(args.pool)]
        for first in range(0, len(pool), 500):
            items = [{"coord": coord, "payload": payload(coord)} for coord in pool[first:first + 500]]
            request(args.port, "POST", "/v1/memories/bulk", {"items": items}, timeout=60)
        print(f"pool of {len(pool)} memories stored; {args.rate:g} operations/s for {args.minutes:g} min "
              f"({', '.join(f'{kind} {weight}%' for kind, (weight, _) in OPERATIONS.items())})", flush=True)

        begin = time.time()
        until = begin + args.minutes * 60
        samples, lock = [], threading.Lock()
        threads = [threading.Thread(target=worker, args=(args.port, pool, args.workers / args.rate, until, samples, lock), daemon=True)
                   for _ in range(args.workers)]
        for thread in threads:
            thread.start()
        rss = [resident_mib(server.pid)]
        print(f"{'minute':>6} {'ops':>6} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'rss MiB':>8}", flush=True)
        for minute in range(1, int(args.minutes + 0.999) + 1):
            time.sleep(max(0.0, min(begin + minute * 60, until) - time.time()))
            rss.append(resident_mib(server.pid))
            with lock:
                window = [s for s in samples if begin + (minute - 1) * 60 <= s[0] < begin + minute * 60]
            latencies = [s[2] * 1000 for s in window]
            print(f"{minute:>6} {len(window):>6} {sum(not s[3] for s in window):>6} {quantile(latencies, 0.5):>8.1f} "
                  f"{quantile(latencies, 0.99):>8.1f} {rss[-1]:>8.1f}", flush=True)
        for thread in threads:
            thread.join(timeout=30)

        errors = [s for s in samples if not s[3]]
        by_kind = {kind: [s[2] * 1000 for s in samples if s[1] == kind] for kind in OPERATIONS}
        print("per operation, whole run: " + ", ".join(
            f"{kind} {len(values)} ops p99 {quantile(values, 0.99):.1f} ms" for kind, values in by_kind.items()))
        achieved = len(samples) / (args.minutes * 60)
        growth = rss[-1] - rss[1] if len(rss) > 2 else 0.0
        print(f"achieved {achieved:.1f} operations/s; resident memory {rss[0]:.1f} MiB at the start, {rss[1]:.1f} after the "
              f"first minute, {rss[-1]:.1f} at the end (growth after warm-up {growth:+.1f} MiB, bound {args.rss_bound_mib:g})")
        if errors:
            print(f"FAILED: {len(errors)} errors, first: {[(s[1], s[4]) for s in errors[:5]]}")
        if growth > args.rss_bound_mib:
            print("FAILED: resident memory grew beyond the bound")
        if errors or growth > args.rss_bound_mib or achieved < 0.9 * args.rate:
            if achieved < 0.9 * args.rate:
                print("FAILED: the load generator fell behind the rate")
            sys.exit(1)
        print("soak passed: 0 errors")
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
