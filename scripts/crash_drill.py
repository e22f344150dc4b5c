"""Crash drill: writes through the HTTP API from several threads, kills the server with SIGKILL
mid-stream, restarts it on the same data directory and checks that every acknowledged write is
present and unchanged (0 lost) and that no record is half-written.

    python3 scripts/crash_drill.py --binary .build/debug/soma --kills 3
    python3 scripts/crash_drill.py --binary .build/debug/soma --kills 3 --postgres-url "$(scripts/servers.sh database soma_crash)"

With --postgres-url the records go to that (empty) PostgreSQL database instead of SQLite.
With --load wrk the writes come from wrk (16 connections, a Lua script that keeps every
acknowledged answer) rather than Python threads, which cannot reach 500 stores/s beside the server
on 2 cores; by hand, the reliability issue's drill is

    python3 scripts/crash_drill.py --binary .build/release/soma --kills 5 --load wrk

With --async-indexing (PostgreSQL only) the service answers a store once the record and its outbox
event are committed and indexes the vector in the background (`VECTOR_INDEX_ASYNC=true`), as the
evented deployment does; pgvector's HNSW insertion then leaves the write path, which is what lets
PostgreSQL take 500 stores/s on 2 cores. The drill then also waits for every stored memory to have
its vector (events lost across the kills: must be 0). Indexing before the answer, where a store writes
its record and vector in one transaction, the drill counts memories without their vector at once
(must be 0).
"""
import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request


def request(port, method, path, body=None, timeout=5):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as response:
        return response.status, json.loads(response.read() or b"null")


def start(binary, port, data_dir, extra_env):
    env = dict(os.environ, SOMA_PORT=str(port), SOMA_DATA_DIR=data_dir, SOMA_RATE_LIMIT_MAX="0", LOG_LEVEL="error", **extra_env)
    process = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited at start: {process.stderr.read().decode()}")
        try:
            if request(port, "GET", "/healthz", timeout=1)[0] == 200:
                return process
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    sys.exit("server did not become healthy")


def writer(port, round_number, worker, acknowledged, stop):
    sequence = 0
    while not stop.is_set():
        sequence += 1
        coord = f"{round_number},{worker},{sequence}"
        payload = {"text": f"drill round {round_number} worker {worker} write {sequence}", "n": sequence, "check": f"{coord}#{sequence * 7}"}
        try:
            status, body = request(port, "POST", "/v1/memories", {"coord": coord, "payload": payload})
        except Exception:
            continue  # not acknowledged: the server is going down
        if status in (200, 201):
            acknowledged.append((coord, payload))


WRK_SCRIPT = """
local round, output = %d, "%s"
local counter, out = 0, nil
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("worker", threads)
end
function init(args)
  out = io.open(output .. "." .. worker, "a")
end
request = function()
  counter = counter + 1
  local coord = string.format("%%d,%%d,%%d", round, worker, counter)
  local body = string.format('{"coord":"%%s","payload":{"text":"drill round %%d write %%d","n":%%d,"check":"%%s#%%d"}}',
    coord, round, counter, counter, coord, counter * 7)
  return wrk.format("POST", "/v1/memories", {["Content-Type"] = "application/json"}, body)
end
response = function(status, headers, body)
  if status == 200 or status == 201 then
    out:write(body, "\\n")
    out:flush()
  end
end
"""


def wrk_round(port, round_number, seconds, work_dir):
    """Starts wrk for `seconds`; returns the process and a function that reads what was acknowledged."""
    output = os.path.join(work_dir, f"acknowledged-{round_number}")
    script = os.path.join(work_dir, f"round-{round_number}.lua")
    with open(script, "w") as file:
        file.write(WRK_SCRIPT % (round_number, output))
    load = subprocess.Popen(["wrk", "-t2", "-c16", f"-d{seconds:.0f}s", "-s", script, f"http://127.0.0.1:{port}/"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def acknowledged():
        found = []
        for name in os.listdir(work_dir):
            if name.startswith(f"acknowledged-{round_number}."):
                with open(os.path.join(work_dir, name)) as lines:
                    for line in lines:
                        memory = json.loads(line)
                        found.append((memory["coord"], memory["payload"]))
        return found
    return load, acknowledged


def verify(port, acknowledged):
    lost = changed = 0
    for coord, payload in acknowledged:
        try:
            status, body = request(port, "GET", f"/v1/memories/{coord}")
        except urllib.error.HTTPError as error:
            status, body = error.code, None
        if status != 200:
            lost += 1
        elif body["payload"] != payload:
            changed += 1
    # Every stored record must be whole: the payload carries a check value derived from its coordinate.
    half_written = 0
    cursor = None
    while True:
        status, page = request(port, "GET", "/v1/memories?limit=1000" + (f"&cursor={cursor}" if cursor else ""))
        for item in page["items"]:
            payload = item["payload"]
            if payload.get("check") != f"{item['coord']}#{payload.get('n', 0) * 7}":
                half_written += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    return lost, changed, half_written


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/debug/soma")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--port", type=int, default=9597)
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--max-seconds", type=float, default=3.0)
    parser.add_argument("--postgres-url", help="store records in this empty PostgreSQL database instead of SQLite")
    parser.add_argument("--load", choices=["python", "wrk"], default="python", help="what writes: Python threads, or wrk")
    parser.add_argument("--async-indexing", action="store_true", help="index vectors in the background (needs --postgres-url)")
    args = parser.parse_args()
    if args.async_indexing and not args.postgres_url:
        parser.error("--async-indexing counts vectors in PostgreSQL: give --postgres-url")
    backend = {"POSTGRES_URL": args.postgres_url} if args.postgres_url else {}
    if args.async_indexing:
        backend["VECTOR_INDEX_ASYNC"] = "true"
    storage = "PostgreSQL" if args.postgres_url else "SQLite"

    data_dir = tempfile.mkdtemp(prefix="soma-crash-")
    acknowledged = []
    total_lost = total_changed = total_half = 0
    for round_number in range(1, args.kills + 1):
        server = start(args.binary, args.port, data_dir, backend)
        stop = threading.Event()
        this_round = []
        if args.load == "wrk":
            load, read_acknowledged = wrk_round(args.port, round_number, args.max_seconds + 2, data_dir)
            threads = []
        else:
            threads = [threading.Thread(target=writer, args=(args.port, round_number, worker, this_round, stop)) for worker in range(args.workers)]
        for thread in threads:
            thread.start()
        started = time.time()
        time.sleep(random.uniform(args.min_seconds, args.max_seconds))
        server.send_signal(signal.SIGKILL)
        elapsed = time.time() - started
        server.wait()
        stop.set()
        for thread in threads:
            thread.join()
        if args.load == "wrk":
            load.wait()
            this_round = read_acknowledged()
        acknowledged.extend(this_round)
        server = start(args.binary, args.port, data_dir, backend)
        lost, changed, half = verify(args.port, acknowledged)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        total_lost += lost
        total_changed += changed
        total_half += half
        print(f"kill {round_number}: {len(this_round)} writes acknowledged this round ({len(this_round) / elapsed:.0f} stores/s), "
              f"{len(acknowledged)} in all; lost {lost}, changed {changed}, half-written {half}")
    unindexed = 0
    if args.async_indexing:
        unindexed = wait_for_vectors(args, data_dir, backend)
    elif args.postgres_url:
        unindexed = postgres_without_vectors(args.postgres_url)
    else:
        unindexed = sqlite_without_vectors(data_dir)
    print(f"crash drill ({storage}{', background indexing' if args.async_indexing else ''}): {args.kills} SIGKILLs, "
          f"{len(acknowledged)} acknowledged writes, lost {total_lost}, changed {total_changed}, half-written {total_half}, "
          f"memories without their vector {unindexed}")
    sys.exit(1 if total_lost or total_changed or total_half or unindexed else 0)


def sqlite_without_vectors(data_dir):
    """Memories, acknowledged or not, whose vector at their version is missing (its entry in `vectors`
    or the vector itself in `vector_values`): a store writes all three in one transaction, so a kill
    leaves all or none."""
    database = sqlite3.connect(os.path.join(data_dir, "soma.sqlite"))
    try:
        return database.execute(
            "SELECT count(*) FROM memories m WHERE NOT EXISTS ("
            "SELECT 1 FROM vectors v JOIN vector_values x ON x.id = v.id WHERE v.id = m.id AND v.version = m.version)"
        ).fetchone()[0]
    finally:
        database.close()


def postgres_without_vectors(url):
    """Memories whose vector at their version is missing in PostgreSQL."""
    query = "SELECT (SELECT count(*) FROM soma_memories) - (SELECT count(*) FROM soma_vectors v JOIN soma_memories m ON m.id = v.id AND m.version = v.version)"
    return int(subprocess.run(["psql", url, "-Atc", query], check=True, capture_output=True, text=True).stdout.strip())


def wait_for_vectors(args, data_dir, backend, within=120):
    """Restarts the service and waits until every stored memory has its vector; returns how many lack one."""
    server = start(args.binary, args.port, data_dir, backend)
    deadline = time.time() + within
    missing = None
    while time.time() < deadline:
        missing = postgres_without_vectors(args.postgres_url)
        if missing == 0:
            break
        time.sleep(1)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    return missing


if __name__ == "__main__":
    main()
