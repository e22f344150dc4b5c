"""`soma migrate-from-original` against a PostgreSQL laid out as the original's first migration
creates it (kv_store, memory_events), holding 1,100 memories over two namespaces with links, odd
coordinates and malformed rows. Needs scripts/servers.sh (SOMA_TEST_SERVERS_SCRIPT); skips, saying
why, without it (CI always has it: scripts/test.sh checks).

    eval "$(scripts/servers.sh fresh)"; python3 -m pytest -q Tests/compat/test_migration.py
"""
import datetime
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time

import pytest

from test_original_api import BINARY, ROOT, start

SERVERS = os.environ.get("SOMA_TEST_SERVERS_SCRIPT")
# In CI (CI=true) a missing server fails the run instead of skipping it.
pytestmark = pytest.mark.skipif(not SERVERS and not os.environ.get("CI"), reason="needs PostgreSQL from scripts/servers.sh (SOMA_TEST_SERVERS_SCRIPT unset)")

SCHEMA = """
CREATE TABLE kv_store (key text PRIMARY KEY, value jsonb NOT NULL);
CREATE TABLE memory_events (id uuid PRIMARY KEY, event_id uuid NOT NULL, namespace text NOT NULL, type text NOT NULL,
                            timestamp double precision NOT NULL, payload jsonb NOT NULL);
CREATE INDEX ix_memory_events_namespace_timestamp ON memory_events (namespace, timestamp);
CREATE INDEX ix_memory_events_event_id ON memory_events (event_id);
"""
MALFORMED = {
    "api_ns:not a tuple:data": '{"text": "no coordinate in the key"}',
    "api_ns:(nan, 1.0):data": '{"text": "not a number"}',
    "api_ns:(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0):data": '{"text": "65 dimensions"}',
    "api_ns:(2.0, 3.0):data": '"a bare string, not a memory"',
    "api_ns:(4.0, 5.0):data": '{"text": "unknown type", "memory_type": "procedural"}',
    "bad namespace!:(1.0,):data": '{"text": "namespace with a space"}',
}


def sql_literal(text):
    return "'" + text.replace("'", "''") + "'"


def python_repr(values):
    """The key the original wrote: the repr of a tuple of floats."""
    parts = [repr(float(value)) for value in values]
    return "(" + parts[0] + ",)" if len(parts) == 1 else "(" + ", ".join(parts) + ")"


def build_original():
    """The rows, and what each valid memory must become: {(namespace, coordinate): expected}."""
    generator = random.Random(816)
    rows, expected, links = {}, {}, {}
    for namespace, count in (("api_ns", 600), ("team.b", 500)):
        for index in range(count):
            shape = index % 4
            if shape == 0:
                coordinate = [float(index), -float(index) / 4]
            elif shape == 1:
                coordinate = [generator.uniform(-1000, 1000) for _ in range(3)]
            elif shape == 2:
                coordinate = [float(index) + 0.125 * dimension for dimension in range(12)]
            else:
                coordinate = [-float(index) - 0.5]
            coordinate = [float(repr(value)) for value in coordinate]
            value = {"text": f"{namespace} memory {index} about {generator.choice(['herons', 'rivers', 'ledgers', 'tides'])}",
                     "coordinate": coordinate, "memory_type": "semantic" if index % 3 == 0 else "episodic",
                     "timestamp": 1.76e9 + index, "tags": [f"t{index % 7}"], "nested": {"n": index}}
            importance = None
            if index % 5 == 0:
                value["importance"] = index / 10
                importance = index / 10
            key = f"{namespace}:{python_repr(coordinate)}"
            rows[key + ":data"] = value
            if index % 5 == 1:
                rows[key + ":meta"] = {"importance": 2.5, "created": 1.76e9}
                importance = 2.5
            expected[(namespace, tuple(coordinate))] = {
                "payload": {k: v for k, v in value.items() if k not in ("coordinate", "memory_type", "timestamp", "importance")} | (
                    {"importance": value["importance"]} if "importance" in value else {}),
                "type": value["memory_type"], "importance": importance, "time": value["timestamp"]}
    # Links kept inside the memory rows, as the original's link_memories wrote them.
    keys = [key for key in rows if key.startswith("api_ns:") and key.endswith(":data")]
    for source, target in zip(keys[:120], keys[1:121]):
        rows[source]["links"] = [{"to": rows[target]["coordinate"], "type": "next", "timestamp": 1.76e9, "weight": 1.5}]
        links[(tuple(rows[source]["coordinate"]), tuple(rows[target]["coordinate"]))] = 1.5
    rows[keys[200]]["links"] = [{"to": [12345.0, 6789.0], "type": "next", "weight": 1.0}]  # no memory there
    return rows, expected, links


def fill(url, rows):
    statements = [SCHEMA]
    for key, value in list(rows.items()) + [(key, None) for key in MALFORMED]:
        text = MALFORMED[key] if value is None else json.dumps(value)
        statements.append(f"INSERT INTO kv_store VALUES ({sql_literal(key)}, {sql_literal(text)}::jsonb);")
    statements.append("INSERT INTO memory_events VALUES (gen_random_uuid(), gen_random_uuid(), 'api_ns', 'created', 1.76e9, '{}');")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write("\n".join(statements))
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-f", script.name], check=True, capture_output=True)
    os.unlink(script.name)


@pytest.fixture(scope="module")
def original():
    assert SERVERS, "SOMA_TEST_SERVERS_SCRIPT is unset: run scripts/servers.sh fresh first"
    url = subprocess.run(["bash", SERVERS, "database", "soma_original"], check=True, capture_output=True, text=True).stdout.strip()
    assert url.startswith("postgres://")
    rows, expected, links = build_original()
    fill(url, rows)
    return url, expected, links


def migrate(url, data, *extra, wait=True):
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("SOMA_", "POSTGRES_", "REDIS_", "QDRANT_", "KAFKA_"))}
    environment.update(SOMA_DATA_DIR=data, SOMA_EMBEDDER="hash", LOG_LEVEL="warning")
    command = [BINARY, "migrate-from-original", "--from", url, *extra]
    if not wait:
        return subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)


def held(data):
    """Every memory and link the data directory holds, read through the API as a client would."""
    server = start(SOMA_DATA_DIR=data)
    try:
        memories, found_links = {}, {}
        for namespace in ("api_ns", "team.b"):
            status, text = server.call("GET", "/v1/export", headers={"X-Soma-Namespace": namespace})
            assert status == 200
            lines = text if isinstance(text, str) else ""
            for line in filter(None, lines.splitlines()):
                memory = json.loads(line)
                if "coordinate" not in memory:
                    continue  # the export's header and link lines
                memories[(namespace, tuple(memory["coordinate"]))] = memory
        for (namespace, coordinate), memory in memories.items():
            if namespace != "api_ns" or memory["version"] < 1:
                continue
            status, answer = server.call("GET", "/v1/links/neighbors?coord=" + ",".join(repr(value) for value in coordinate),
                                         headers={"X-Soma-Namespace": namespace})
            assert status == 200, answer
            for link in answer["neighbors"]:
                to = link["to"]
                found_links[(coordinate, tuple(float(value) for value in to.split(",")) if isinstance(to, str) else tuple(to))] = link["weight"]
        return memories, found_links
    finally:
        server.stop()


def assert_matches(memories, expected):
    assert set(memories) == set(expected), (len(memories), len(expected), sorted(set(expected) - set(memories))[:3])
    for place, want in expected.items():
        memory = memories[place]
        assert memory["payload"] == want["payload"], place
        assert memory["type"] == want["type"], place
        if want["importance"] is not None:
            assert memory["importance"] == want["importance"], place
        # The original's timestamp is the memory's history, not the time of the migration.
        for field in ("created_at", "updated_at"):
            kept = datetime.datetime.fromisoformat(memory[field].replace("Z", "+00:00")).timestamp()
            assert abs(kept - want["time"]) < 1e-3, (place, field, memory[field], want["time"])


def test_every_valid_memory_moves_and_malformed_rows_are_refused_by_key(original):
    url, expected, links = original
    data = tempfile.mkdtemp(prefix="soma-migrated-")
    run = migrate(url, data)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "read 1106, migrated 1100, skipped 0 (already here), refused 6; links migrated 120, skipped 0, refused 1" in run.stderr, run.stderr[-3000:]
    for key in MALFORMED:
        assert key in run.stdout + run.stderr, f"refused row {key} is named"
    memories, found_links = held(data)
    assert_matches(memories, expected)
    assert found_links == links
    # Again: nothing left to do, nothing changed.
    rerun = migrate(url, data)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "migrated 0, skipped 1100 (already here), refused 6; links migrated 0, skipped 120, refused 1" in rerun.stderr, rerun.stderr[-3000:]
    again, again_links = held(data)
    assert {place: (m["version"], m["updated_at"]) for place, m in again.items()} == {place: (m["version"], m["updated_at"]) for place, m in memories.items()}
    assert again_links == found_links


def test_a_run_killed_halfway_then_rerun_leaves_the_same_result(original):
    url, expected, links = original
    data = tempfile.mkdtemp(prefix="soma-killed-")
    process = migrate(url, data, "--batch-size", "5", wait=False)
    database = os.path.join(data, "soma.sqlite")
    stored = 0
    deadline = time.time() + 120
    while time.time() < deadline and stored < 100:
        time.sleep(0.05)
        try:
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as connection:
                stored = connection.execute("SELECT count(*) FROM memories").fetchone()[0]
        except sqlite3.Error:
            pass
    process.send_signal(signal.SIGKILL)
    process.wait()
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        partial = connection.execute("SELECT count(*) FROM memories").fetchone()[0]
    assert 0 < partial < 1100, f"the kill came halfway ({partial} of 1100 stored)"
    rerun = migrate(url, data)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"skipped {partial} (already here)" in rerun.stderr, rerun.stderr[-3000:]
    memories, found_links = held(data)
    assert_matches(memories, expected)
    assert found_links == links
    assert all(memory["version"] == 1 for memory in memories.values()), "no memory written twice"


def test_import_takes_the_originals_json_lines_export():
    server = start()
    try:
        lines = [json.dumps({"text": "exported by the original", "coordinate": [1.5, -2], "memory_type": "semantic", "timestamp": 1.76e9, "importance": 3}),
                 json.dumps({"text": "second", "coordinate": "4,5"})]
        status, answer = server.call("POST", "/v1/import", raw="\n".join(lines).encode(), headers={"Content-Type": "application/x-ndjson"})
        assert status in (200, 201), answer
        status, memory = server.call("GET", "/v1/memories/1.5,-2")
        assert status == 200 and memory["type"] == "semantic" and memory["importance"] == 3
        assert memory["payload"] == {"text": "exported by the original", "importance": 3}
        assert server.call("GET", "/v1/memories/4,5")[0] == 200
    finally:
        server.stop()


def test_an_unreachable_original_fails_at_once_naming_where():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    run = migrate(f"postgres://postgres:secret@127.0.0.1:{port}/somamemory?sslmode=disable", tempfile.mkdtemp(prefix="soma-migrate-"),
                  "--connect-timeout", "3")
    took = time.monotonic() - started
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert took < 3 + 5, f"gave up after {took:.1f} s"
    assert f"127.0.0.1:{port}" in output and "secret" not in output, output[-2000:]
