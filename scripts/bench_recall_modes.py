#!/usr/bin/env python3
"""Recall latency by mode on the embedded default (SQLite, all-MiniLM-L6-v2 in process), side by side
in one run: vector, keyword and hybrid, the three modes alternated query by query so the machine's
state is shared; one client, one request at a time (latency, not throughput). Query kinds: rare words
(a name or code held by a few memories), common words only (each held by 5-40% of memories), and
questions in natural words.

    scripts/bench_recall_modes.py [--binary .build/release/soma] [--sizes 10000,100000] [--queries 300]

Memories are stored in bulk, then the service restarts so recall runs on the saved, merged graph.
"""
import argparse
import os
import pathlib
import random
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts/bench"))
from soma_service import Service  # noqa: E402
COMMON = ["meeting", "project", "team", "update", "review", "customer", "plan", "report", "email", "call",
          "budget", "design", "release", "week", "office", "data", "issue", "notes", "status", "launch"]
NATURAL = ["what did the team decide about the budget", "when is the next release planned", "who reviewed the design notes",
           "which customer asked for an update", "what happened at the office this week", "why was the launch delayed"]


def memory_texts(count, seed):
    """Sentences of common words (each in a fixed share of memories), filler and one rare name or code each."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ru", "te", "sa", "no", "vi", "der", "pon", "zu", "qua", "ish", "mor", "tal", "ben"]
    filler = ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 3))) for _ in range(3000)]
    shares = {word: 0.05 + 0.35 * i / (len(COMMON) - 1) for i, word in enumerate(COMMON)}
    texts, rare = [], []
    for index in range(count):
        words = [w for w, share in shares.items() if rng.random() < share]
        words += rng.choices(filler, k=rng.randint(4, 12))
        code = f"ZX-{index:06d}"
        rare.append(code)
        words.append(code)
        rng.shuffle(words)
        texts.append("Notes: " + " ".join(words) + ".")
    return texts, rare


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build/release/soma"))
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="keep each size's data in DIR/SIZE and reuse it when there (to compare builds on the same data)")
    arguments = parser.parse_args()
    for size in [int(s) for s in arguments.sizes.split(",")]:
        texts, rare = memory_texts(size, arguments.seed)
        data = os.path.join(arguments.keep, str(size)) if arguments.keep else tempfile.mkdtemp(prefix="soma-modes-")
        stored = os.path.join(data, "stored")
        if not os.path.exists(stored):
            os.makedirs(data, exist_ok=True)
            service = Service(arguments.binary, data=data)
            started = time.time()
            for at in range(0, size, 500):
                service.call("POST", "/v1/memories/bulk", {"items": [{"coord": f"{i}", "payload": {"text": t}} for i, t in enumerate(texts[at:at + 500], at)]})
            print(f"{size} memories stored in {time.time() - started:.0f} s", flush=True)
            service.stop()
            open(stored, "w").close()
        service = Service(arguments.binary, data=data)
        rng = random.Random(arguments.seed + size)
        kinds = {
            "rare": [f"{rng.choice(rare)} notes" for _ in range(arguments.queries // 3)],
            "common": [" ".join(rng.sample(COMMON, rng.randint(1, 3))) for _ in range(arguments.queries // 3)],
            "natural": [rng.choice(NATURAL) for _ in range(arguments.queries // 3)],
        }
        modes = ["vector", "keyword", "hybrid"]
        timings = {(kind, mode): [] for kind in kinds for mode in modes}
        for kind, queries in kinds.items():
            for query in queries[:5]:  # warm the caches and the statement cache
                for mode in modes:
                    service.call("POST", "/v1/memories/search", {"query": query, "mode": mode, "top_k": 10})
        for turn, (kind, query) in enumerate((kind, query) for kind, queries in kinds.items() for query in queries):
            for mode in modes[turn % 3:] + modes[:turn % 3]:
                began = time.perf_counter()
                service.call("POST", "/v1/memories/search", {"query": query, "mode": mode, "top_k": 10})
                timings[(kind, mode)].append((time.perf_counter() - began) * 1000)
        service.stop()
        print(f"\n{size} memories: latency in ms, one client ({arguments.queries // 3} queries per kind, modes alternated)")
        print(f"{'kind':<8} {'mode':<8} {'p50':>7} {'p99':>7} {'p50 / vector p50':>17}")
        for kind in list(kinds) + ["all"]:
            for mode in modes:
                values = [v for (k, m), vs in timings.items() if (kind == "all" or k == kind) and m == mode for v in vs]
                vector = [v for (k, m), vs in timings.items() if (kind == "all" or k == kind) and m == "vector" for v in vs]
                print(f"{kind:<8} {mode:<8} {statistics.median(values):>7.2f} {percentile(values, 0.99):>7.2f} "
                      f"{statistics.median(values) / statistics.median(vector):>17.2f}", flush=True)


if __name__ == "__main__":
    main()
