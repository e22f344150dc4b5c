"""Backend fault drill: the whole pipeline as processes (`soma serve` on PostgreSQL + Redis with
`VECTOR_INDEX_ASYNC=true`, `soma consume`, the Kafka mock or Tansu, the Qdrant test server) under mixed load
(stores, gets, recalls), while one backend at a time goes away and comes back:

  postgres  stopped and started (scripts/servers.sh stop/start: a real server restart)
  redis     stopped and started (a real server restart)
  kafka     the mock's brokers down and up (scripts/servers.sh pause/resume: connections refused,
            then the same port and logs; the mock keeps its logs in memory, so stopping the process
            would lose them, which a broker restart does not)
  qdrant    the test server (Qdrant's engine, persisted) stopped and started: a real restart, data kept
  tansu     the Tansu broker frozen and thawed (SIGSTOP/SIGCONT: it keeps topics in memory, so a
            restart would lose them; requests to it time out meanwhile); with --broker tansu

Per fault it reports 5xx answers, other errors, and the time to recover (from the backend's return
to the last failed request). At the end, once the consumer has caught up: acknowledged writes lost
or changed (must be 0) and events lost, i.e. acknowledged memories without their one vector point
(must be 0). Servers come from scripts/servers.sh; PostgreSQL gets a fresh database.

    swift build -c release --product soma
    python3 scripts/fault_drill.py --binary .build/release/soma --outage 8
"""
import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_pipeline import servers_env, stop_all, wait_ready  # noqa: E402

FAULTS = {
    "postgres": (["stop", "postgres"], ["start", "postgres"]),
    "redis": (["stop", "redis"], ["start", "redis"]),
    "kafka": (["pause", "kafka"], ["resume", "kafka"]),
    "qdrant": (["stop", "qdrant"], ["start", "qdrant"]),
    "tansu": (["pause", "tansu"], ["resume", "tansu"]),
}
# The faults the default run takes, on the Kafka mock; tansu needs --broker tansu.
DEFAULT_FAULTS = "postgres,redis,kafka,qdrant"


def servers(*arguments):
    subprocess.run([f"{HERE}/servers.sh", *arguments], check=True, stdout=subprocess.DEVNULL)


def address(url):
    parsed = urllib.parse.urlsplit(url if "://" in url else f"tcp://{url}")
    return parsed.hostname, parsed.port


def reachable(fault, env):
    """Whether the server behind `fault` answers now: a TCP connection for PostgreSQL, Redis and the
    Kafka mock (whose paused brokers refuse connections); an HTTP answer for the Qdrant test server;
    for Tansu, that its process is not stopped (frozen, it still accepts connections)."""
    if fault == "tansu":
        states = subprocess.run(["ps", "-o", "state=", "-p", ",".join(subprocess.run(
            ["pgrep", "-f", "tansu broker"], capture_output=True, text=True).stdout.split())], capture_output=True, text=True).stdout.split()
        return bool(states) and "T" not in states
    if fault == "qdrant":
        try:
            request = urllib.request.Request(f"{env['SOMA_TEST_QDRANT_URL']}/healthz", headers={"api-key": env["SOMA_TEST_QDRANT_API_KEY"]})
            urllib.request.urlopen(request, timeout=1).read()
            return True
        except OSError:
            return False
    url = {"postgres": env["SOMA_TEST_POSTGRES_URL"], "redis": env["SOMA_TEST_REDIS_URL"], "kafka": env["SOMA_TEST_KAFKA_BOOTSTRAP"]}[fault]
    try:
        socket.create_connection(address(url), timeout=1).close()
        return True
    except OSError:
        return False


def confirm(fault, env, up, within=15):
    """Waits until the server is down (or up again); a drill whose fault did not happen must not pass."""
    deadline = time.time() + within
    while reachable(fault, env) != up:
        if time.time() > deadline:
            raise SystemExit(f"fault drill: {fault} is still {'down' if up else 'answering'} {within} s after "
                             f"{'its restart' if up else 'it was stopped'}; the drill cannot count this outage")
        time.sleep(0.1)


class Load:
    """Stores, gets and recalls from several threads; every outcome is kept with its time."""

    def __init__(self, port, namespace):
        self.port, self.namespace = port, namespace
        self.headers = {"X-Soma-Namespace": namespace}
        self.outcomes, self.acknowledged, self.lock = [], {}, threading.Lock()
        self.stopping = threading.Event()
        self.sequence = 0

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json", **self.headers})
        try:
            with urllib.request.urlopen(req, timeout=15) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as error:
            return error.code
        except Exception as error:
            return type(error).__name__

    def step(self):
        kind = random.choices(["store", "get", "recall"], weights=[5, 3, 2])[0]
        started = time.time()
        if kind == "store":
            with self.lock:
                self.sequence += 1
                number = self.sequence
            coord, payload = f"{number % 500},{number // 500}", {"text": f"drill memory {number} topic {number % 13}", "n": number}
            status = self.call("POST", "/v1/memories", {"coord": coord, "payload": payload})
            if status in (200, 201):
                with self.lock:
                    self.acknowledged[coord] = payload
        elif kind == "get":
            with self.lock:
                known = list(self.acknowledged)
            if not known:
                return
            status = self.call("GET", f"/v1/memories/{random.choice(known)}")
        else:
            status = self.call("POST", "/v1/memories/search", {"query": f"topic {random.randint(0, 12)}", "top_k": 5})
        with self.lock:
            self.outcomes.append((started, time.time(), kind, status))

    def run(self, workers=6, pause=0.02):
        def loop():
            while not self.stopping.is_set():
                self.step()
                time.sleep(pause)
        threads = [threading.Thread(target=loop, daemon=True) for _ in range(workers)]
        for thread in threads:
            thread.start()
        return threads


# What the API's /readyz says while each backend is away (status code, and the field that goes false).
READINESS_DURING = {"postgres": (503, "kv_store"), "redis": (200, "cache"), "kafka": (200, "event_bus"), "qdrant": (503, "vector_store"),
                    "tansu": (200, "event_bus")}


def readiness(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except OSError:
        return None, {}


def readiness_shows(port, fault, until):
    """Polls /readyz until it reports the outage (code and field false) or `until` passes; the last answer."""
    code, field = READINESS_DURING[fault]
    answer = (None, {})
    while True:
        answer = readiness(port)
        if answer[0] == code and answer[1].get(field) is False:
            return True, answer
        if time.time() > until:
            return False, answer
        time.sleep(0.2)


def ok(status):
    return status in (200, 201)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/soma")
    parser.add_argument("--outage", type=float, default=8, help="seconds each backend stays away")
    parser.add_argument("--settle", type=float, default=10, help="seconds of load between faults")
    parser.add_argument("--faults", default=DEFAULT_FAULTS)
    parser.add_argument("--broker", choices=["mock", "tansu"], default="mock", help="the Kafka the pipeline runs on")
    parser.add_argument("--port", type=int, default=9596)
    args = parser.parse_args()

    env = servers_env()
    run_id = uuid.uuid4().hex[:8]
    database = subprocess.run([f"{HERE}/servers.sh", "database", "soma_drill"], check=True, capture_output=True, text=True).stdout.strip()
    common = dict(
        os.environ, POSTGRES_URL=database, REDIS_URL=env["SOMA_TEST_REDIS_URL"], KAFKA_BOOTSTRAP_SERVERS=env["SOMA_TEST_TANSU_BOOTSTRAP" if args.broker == "tansu" else "SOMA_TEST_KAFKA_BOOTSTRAP"],
        KAFKA_MEMORY_EVENTS_TOPIC=f"drill.{run_id}", KAFKA_CONSUMER_GROUP=f"drill-{run_id}", QDRANT_URL=env["SOMA_TEST_QDRANT_URL"],
        QDRANT_API_KEY=env["SOMA_TEST_QDRANT_API_KEY"], QDRANT_COLLECTION=f"drill_{run_id}", VECTOR_INDEX_ASYNC="true",
        SOMA_RATE_LIMIT_MAX="0", LOG_LEVEL="warning", POSTGRES_TIMEOUT_MS="2000", QDRANT_TIMEOUT_MS="2000",
        CONSUMER_RETRY_BACKOFF_MS="200")
    logs = open(f"/tmp/soma-fault-drill-{run_id}.log", "w")
    api = subprocess.Popen([args.binary, "serve"], env=dict(common, SOMA_PORT=str(args.port)), stdout=logs, stderr=logs)
    consumer = subprocess.Popen([args.binary, "consume"], env=dict(common, CONSUMER_METRICS_PORT=str(args.port + 10)), stdout=logs, stderr=logs)
    namespace = f"drill-{run_id}"
    try:
        wait_ready(args.port)
        wait_ready(args.port + 10)
        load = Load(args.port, namespace)
        threads = load.run()
        time.sleep(args.settle)
        report = []
        for fault in args.faults.split(","):
            stop, start = FAULTS[fault]
            began = time.time()
            servers(*stop)
            confirm(fault, env, up=False)
            down = time.time()
            shown, during = readiness_shows(args.port, fault, until=down + args.outage)
            time.sleep(max(0.0, down + args.outage - time.time()))
            servers(*start)
            confirm(fault, env, up=True)
            back = time.time()
            time.sleep(args.settle)
            after, ready_deadline = readiness(args.port), time.time() + 10
            while (after[0] != 200 or after[1].get("status") != "ok") and time.time() < ready_deadline:
                time.sleep(0.2)
                after = readiness(args.port)
            ready_after = time.time() - back
            with load.lock:
                window = [o for o in load.outcomes if began <= o[0] < time.time()]
            failed_after = [o[1] for o in window if not ok(o[3]) and o[1] >= back]
            report.append({
                "fault": fault, "requests": len(window),
                "5xx": sum(isinstance(o[3], int) and o[3] >= 500 for o in window),
                "other errors": sum(not ok(o[3]) and not (isinstance(o[3], int) and o[3] >= 500) for o in window),
                "recovered after (s)": round(max(failed_after) - back, 1) if failed_after else 0.0,
                "statuses": sorted({str(o[3]) for o in window if not ok(o[3])}),
                "readyz during": f"{during[0]} {READINESS_DURING[fault][1]}={during[1].get(READINESS_DURING[fault][1])}",
                "readyz after": f"{after[0]} {after[1].get('status')} ({ready_after:.1f} s after the server was back)",
            })
            print(f"{fault}: {report[-1]}", flush=True)
            if not shown:
                raise SystemExit(f"fault drill: /readyz never reported the {fault} outage within {args.outage} s: {during}")
            if after[0] != 200 or after[1].get("status") != "ok":
                raise SystemExit(f"fault drill: /readyz did not recover {args.settle + 10} s after {fault} returned: {after}")
        load.stopping.set()
        for thread in threads:
            thread.join(timeout=30)

        # Every acknowledged write, as written.
        lost = changed = 0
        for coord, payload in load.acknowledged.items():
            req = urllib.request.Request(f"http://127.0.0.1:{args.port}/v1/memories/{coord}", headers=load.headers)
            try:
                with urllib.request.urlopen(req, timeout=15) as response:
                    memory = json.loads(response.read())
                if memory.get("payload") != payload:
                    changed += 1
            except urllib.error.HTTPError:
                lost += 1
        # Every acknowledged memory indexed: one point each, once the consumer has caught up.
        collection_count = f"{env['SOMA_TEST_QDRANT_URL']}/collections/drill_{run_id}/points/count"
        count_body = json.dumps({"exact": True, "filter": {"must": [{"key": "namespace", "match": {"value": namespace}}]}}).encode()
        points, deadline = -1, time.time() + 120
        while time.time() < deadline:
            req = urllib.request.Request(collection_count, data=count_body, method="POST",
                                         headers={"Content-Type": "application/json", "api-key": env["SOMA_TEST_QDRANT_API_KEY"]})
            with urllib.request.urlopen(req, timeout=15) as response:
                points = json.loads(response.read())["result"]["count"]
            if points >= len(load.acknowledged):
                break
            time.sleep(1)
        events_lost = max(0, len(load.acknowledged) - points)
        print()
        print(f"{'fault':<10} {'requests':>8} {'5xx':>6} {'other':>6} {'recovered after':>16}  failed statuses")
        for row in report:
            print(f"{row['fault']:<10} {row['requests']:>8} {row['5xx']:>6} {row['other errors']:>6} {row['recovered after (s)']:>15}s  {', '.join(row['statuses']) or '-'}")
        print(f"acknowledged writes: {len(load.acknowledged)}; lost {lost}, changed {changed}; vector points {points}; events lost {events_lost}")
        if lost or changed or events_lost:
            sys.exit("FAILED: acknowledged writes or events were lost")
        print("fault drill passed: 0 acknowledged writes lost, 0 events lost")
    finally:
        for name in FAULTS:  # leave every server running
            try:
                servers(*FAULTS[name][1])
            except subprocess.CalledProcessError:
                pass
        stop_all((api, consumer), timeout=40)


if __name__ == "__main__":
    main()
