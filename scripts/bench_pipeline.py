#!/usr/bin/env python3
"""Consumer throughput and store-to-indexed lag of the evented pipeline, as separate processes:
`soma serve` (PostgreSQL records, VECTOR_INDEX_ASYNC=true) -> Kafka -> `soma consume` -> Qdrant.

Conditions, named in every figure: Kafka is librdkafka's mock cluster and Qdrant is the project's
OpenAPI-checking stand-in (qdrant-client's local mode in Python), both from scripts/servers.sh;
the embedder is the built-in hash embedder. The stand-in is far slower than a Qdrant server, so the
throughput is a floor for this pipeline, not a figure for a production one.

1. Backlog: N memories stored with no consumer running; then the consumer starts, and the time
   until Qdrant holds all N gives events indexed per second.
2. Lag: with the consumer running, memories stored at a steady rate; the consumer's own
   soma_consumer_event_age_seconds histogram (change time -> vector written) gives p50 and p99
   (as bucket upper bounds).

Usage: scripts/bench_pipeline.py --binary .build/release/soma [--backlog 2000] [--rate 50] [--seconds 20]
"""
import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))


def servers_env():
    subprocess.run([f"{HERE}/servers.sh", "start"], check=True, stdout=subprocess.DEVNULL)
    lines = subprocess.run([f"{HERE}/servers.sh", "env"], check=True, capture_output=True, text=True).stdout
    return dict(line[len("export "):].split("=", 1) for line in lines.splitlines() if line.startswith("export "))


def request(port, method, path, body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return response.status, response.read().decode()


def stop_all(processes, timeout):
    """SIGTERM each process, waiting up to `timeout` seconds for it before SIGKILL."""
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_ready(port, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if request(port, "GET", "/healthz", timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"nothing answered on port {port}")


def indexed(env, collection, namespace):
    body = json.dumps({"exact": True, "filter": {"must": [{"key": "namespace", "match": {"value": namespace}}]}}).encode()
    req = urllib.request.Request(
        f"{env['SOMA_TEST_QDRANT_URL']}/collections/{collection}/points/count", data=body, method="POST",
        headers={"Content-Type": "application/json", "api-key": env.get("SOMA_TEST_QDRANT_API_KEY", "")})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return json.loads(response.read())["result"]["count"]
    except OSError:
        return 0


def quantile(buckets, count, q):
    """Upper bound of the bucket holding quantile q of a Prometheus histogram."""
    target = q * count
    for bound, cumulative in buckets:
        if cumulative >= target:
            return bound
    return float("inf")


def age_histogram(port):
    text = request(port, "GET", "/metrics")[1]
    buckets, count = [], 0
    for line in text.splitlines():
        if line.startswith("soma_consumer_event_age_seconds_bucket"):
            bound = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), float(line.rsplit(" ", 1)[1])))
        elif line.startswith("soma_consumer_event_age_seconds_count"):
            count = float(line.rsplit(" ", 1)[1])
    return sorted(buckets), count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/soma")
    parser.add_argument("--backlog", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()

    env = servers_env()
    tag = uuid.uuid4().hex[:8]
    collection, namespace, topic = f"bench_{tag}", f"bench-{tag}", f"bench.{tag}"
    database = subprocess.run([f"{HERE}/servers.sh", "database", "soma_pipeline_bench"], check=True, capture_output=True, text=True).stdout.strip()
    api_port, metrics_port = 9611, 9612
    common = dict(os.environ,
                  POSTGRES_URL=database, SOMA_VECTOR="qdrant", QDRANT_URL=env["SOMA_TEST_QDRANT_URL"],
                  QDRANT_API_KEY=env.get("SOMA_TEST_QDRANT_API_KEY", ""), QDRANT_COLLECTION=collection,
                  KAFKA_BOOTSTRAP_SERVERS=env["SOMA_TEST_KAFKA_BOOTSTRAP"], KAFKA_MEMORY_EVENTS_TOPIC=topic,
                  KAFKA_CONSUMER_GROUP=f"bench-{tag}", SOMA_MEMORY_NAMESPACE=namespace, SOMA_RATE_LIMIT_MAX="0",
                  VECTOR_INDEX_ASYNC="true", LOG_LEVEL="error", SOMA_PORT=str(api_port), CONSUMER_METRICS_PORT=str(metrics_port),
                  SOMA_EMBEDDER="hash")
    processes = []

    def start(command):
        process = subprocess.Popen([args.binary, command], env=common, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(process)
        wait_ready(api_port if command == "serve" else metrics_port)
        return process

    try:
        start("serve")
        for first in range(0, args.backlog, 250):
            items = [{"coord": f"{i},1", "payload": {"text": f"backlog memory {i} about topic {i % 37}"}} for i in range(first, min(first + 250, args.backlog))]
            request(api_port, "POST", "/v1/memories/bulk", {"items": items})
        time.sleep(1)  # the relay publishes the backlog to Kafka
        started = time.time()
        start("consume")
        while indexed(env, collection, namespace) < args.backlog:
            if time.time() - started > 600:
                raise SystemExit("the backlog was not indexed within 10 minutes")
            time.sleep(0.2)
        elapsed = time.time() - started
        print(f"backlog: {args.backlog} events indexed in {elapsed:.1f} s = {args.backlog / elapsed:.0f} events/s "
              f"(consumer start-up included; Kafka mock, Qdrant stand-in, hash embedder)")

        before, before_count = age_histogram(metrics_port)
        interval, next_at, stored = 1 / args.rate, time.time(), 0
        end = time.time() + args.seconds
        while time.time() < end:
            request(api_port, "POST", "/v1/memories", {"coord": f"{stored},2", "payload": {"text": f"steady memory {stored}"}})
            stored += 1
            next_at += interval
            time.sleep(max(0, next_at - time.time()))
        deadline = time.time() + 120
        while indexed(env, collection, namespace) < args.backlog + stored and time.time() < deadline:
            time.sleep(0.2)
        after, after_count = age_histogram(metrics_port)
        previous = dict(before)
        window = [(bound, cumulative - previous.get(bound, 0)) for bound, cumulative in after]
        count = after_count - before_count
        print(f"lag at {args.rate:.0f} stores/s for {args.seconds:.0f} s ({stored} events): "
              f"p50 <= {quantile(window, count, 0.5)} s, p99 <= {quantile(window, count, 0.99)} s "
              f"(store to vector written, from the consumer's histogram; Kafka mock, Qdrant stand-in)")
    finally:
        stop_all(reversed(processes), timeout=30)


if __name__ == "__main__":
    sys.exit(main())
