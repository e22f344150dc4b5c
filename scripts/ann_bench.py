"""ANN benchmark, side by side in one run: our index (hnswlib through the C shim, with the Swift
buffer and merge around it) against Debian's python3-hnswlib on the same vectors and parameters.

    /usr/bin/python3 scripts/ann_bench.py --count 100000 --dimension 384 --binary .build/release/soma

Vectors: a Gaussian mixture (clustered, like real embeddings), L2-normalised. Ground truth: exact
cosine top-10 computed with numpy. Both sides query one at a time on one thread.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import hnswlib
import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=64)
    parser.add_argument("--ef", type=int, default=64)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--binary", default=".build/release/soma")
    parser.add_argument("--crossover", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(42)
    centers = rng.normal(size=(200, args.dimension)).astype(np.float32)
    def sample(n):
        points = centers[rng.integers(0, len(centers), n)] + 0.6 * rng.normal(size=(n, args.dimension)).astype(np.float32)
        return (points / np.linalg.norm(points, axis=1, keepdims=True)).astype(np.float32)
    data, queries = sample(args.count), sample(args.queries)
    truth = np.argsort(-(queries @ data.T), axis=1)[:, : args.k]

    def recall(found):
        return float(np.mean([len(set(found[i]) & set(truth[i])) / args.k for i in range(len(truth))]))

    folder = tempfile.mkdtemp(prefix="ann-bench-")
    data.tofile(os.path.join(folder, "vectors.f32"))
    queries.tofile(os.path.join(folder, "queries.f32"))

    # Debian's hnswlib, one thread.
    index = hnswlib.Index(space="ip", dim=args.dimension)
    index.init_index(max_elements=args.count, M=args.m, ef_construction=args.ef_construction, random_seed=100)
    index.set_num_threads(1)
    started = time.perf_counter()
    index.add_items(data, np.arange(args.count))
    build_seconds = time.perf_counter() - started
    index.set_ef(args.ef)
    latencies, found = [], []
    started = time.perf_counter()
    for query in queries:
        before = time.perf_counter()
        labels, _ = index.knn_query(query, k=args.k)
        latencies.append(time.perf_counter() - before)
        found.append(labels[0])
    total = time.perf_counter() - started
    latencies.sort()
    theirs = {"build_seconds": build_seconds, "qps": len(queries) / total, "p50_ms": latencies[len(latencies) // 2] * 1000,
              "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000, "recall@10": recall(np.array(found))}

    results = os.path.join(folder, "results.i32")
    command = [args.binary, "ann-bench", "--vectors", os.path.join(folder, "vectors.f32"), "--queries", os.path.join(folder, "queries.f32"),
               "--dimension", str(args.dimension), "--m", str(args.m), "--ef-construction", str(args.ef_construction), "--ef", str(args.ef),
               "--k", str(args.k), "--results", results] + (["--crossover"] if args.crossover else [])
    ours = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    ours["recall@10"] = recall(np.fromfile(results, dtype=np.int32).reshape(-1, args.k))

    print(f"{args.count} vectors x {args.dimension}, {args.queries} queries, M {args.m}, ef_construction {args.ef_construction}, ef {args.ef}, k {args.k}")
    print(f"{'':22}{'soma':>12}{'python3-hnswlib':>18}")
    for key in ["recall@10", "qps", "p50_ms", "p99_ms", "build_seconds"]:
        print(f"{key:22}{ours[key]:12.3f}{theirs[key]:18.3f}")
    print(f"QPS ratio soma / python3-hnswlib: {ours['qps'] / theirs['qps']:.2f}")
    if "crossover" in ours:
        print("exact vs graph query time (microseconds):")
        for row in ours["crossover"]:
            print(f"  {int(row['size']):6d} vectors: exact {row['exact_us']:8.1f}  graph {row['graph_us']:8.1f}")


if __name__ == "__main__":
    main()
