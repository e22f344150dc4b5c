"""A backup as an operator makes one: `soma export` from one service, `soma import` into an empty
one, `soma export` again. On the SQLite default and on PostgreSQL + Redis: 1,000 memories of
both types with importances, TTLs and updated versions, and 300 links, come back equal (but for
the namespace); a second import changes nothing.

    eval "$(scripts/servers.sh fresh)"; python3 -m pytest -q Tests/backup
"""
import json
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import urllib.request

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "compat"))
from test_original_api import BINARY, TOKEN, start  # noqa: E402

SERVERS = os.environ.get("SOMA_TEST_SERVERS_SCRIPT")
REDIS = os.environ.get("SOMA_TEST_REDIS_URL")


def fill(server, namespace, count=1000, links=300, seed=7):
    random.seed(seed)
    items = []
    for index in range(count):
        item = {"coord": f"{index % 50},{index // 50},{index % 7}",
                "payload": {"text": f"memory {index} about {random.choice(['rockets', 'coffee', 'budgets', '東京', 'café'])}",
                            "n": index, "nested": {"tags": [index % 3, "x"]}},
                "type": "semantic" if index % 3 == 0 else "episodic", "importance": round(random.uniform(0, 10), 3)}
        if index % 5 == 0:
            item["ttl_seconds"] = 86400 * (1 + index % 30)
        items.append(item)
    for start_index in range(0, count, 500):
        status, _ = server.call("POST", "/v1/memories/bulk", {"items": items[start_index:start_index + 500]}, headers={"X-Soma-Namespace": namespace})
        assert status == 200
    for item in items[::4]:  # a second version of a quarter of them
        changed = {**item, "payload": {**item["payload"], "text": item["payload"]["text"] + " (revised)"}}
        assert server.call("POST", "/v1/memories", changed, headers={"X-Soma-Namespace": namespace})[0] in (200, 201)
    made = set()
    while len(made) < links:
        a, b = random.sample(items, 2)
        kind = random.choice(["related", "led_to", "mentions"])
        if (a["coord"], b["coord"], kind) in made:
            continue
        made.add((a["coord"], b["coord"], kind))
        status, _ = server.call("POST", "/v1/links", {"from": a["coord"], "to": b["coord"], "type": kind, "weight": round(random.uniform(0.1, 5), 2)},
                                headers={"X-Soma-Namespace": namespace})
        assert status == 201


def soma(server, namespace, *arguments, stdin=None):
    environment = {**{key: value for key, value in os.environ.items() if not key.startswith("SOMA_")},
                   "SOMA_URL": f"http://127.0.0.1:{server.port}", "SOMA_API_TOKEN": TOKEN}
    run = subprocess.run([BINARY, *arguments, "--namespace", namespace], env=environment, capture_output=True, timeout=300, input=stdin)
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    return run.stdout


def comparable(export):
    """The lines of an export without what names its namespace (the header, each memory's id and
    namespace), with vectors rounded to 5 places (an index may keep them in float32 or normalised)."""
    lines = [json.loads(line) for line in export.splitlines() if line.strip()]
    assert "soma_export" in lines[0] and lines[0]["soma_export"]["version"] == 2
    memories, links = [], []
    for line in lines[1:]:
        if "link" in line:
            links.append(json.dumps(line["link"], sort_keys=True))
        else:
            memory = {key: value for key, value in line.items() if key not in ("id", "namespace")}
            if "vector" in memory:
                memory["vector"] = [round(value, 5) for value in memory["vector"]]
            memories.append(json.dumps(memory, sort_keys=True))
    return sorted(memories), sorted(links)


def round_trip(first, second, vectors=False):
    fill(first, "source")
    options = ["--vectors"] if vectors else []
    exported = soma(first, "source", "export", *options)
    memories, links = comparable(exported)
    assert len(memories) == 1000 and len(links) == 300
    assert all(('"vector"' in memory) == vectors for memory in memories)
    backup = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False)
    backup.write(exported)
    backup.close()
    answer = json.loads(soma(second, "restored", "import", backup.name))
    # With vectors of the same model, nothing is embedded again (the service counts what it reused).
    assert answer == {"imported": 1000, "links": 300, "unchanged": 0, "vectors_reused": 1000 if vectors else 0}, answer
    assert comparable(soma(second, "restored", "export", *options)) == (memories, links), "the restored namespace exports as the original"
    # The same file again: nothing is written, no version moves, no link doubles.
    again = json.loads(soma(second, "restored", "import", backup.name))
    assert again == {"imported": 0, "links": 0, "unchanged": 1300, "vectors_reused": 0}, again
    assert comparable(soma(second, "restored", "export", *options)) == (memories, links)
    # Recall by meaning finds what was restored.
    status, answer = second.call("POST", "/v1/memories/search", {"query": "memory 7 about", "top_k": 5}, headers={"X-Soma-Namespace": "restored"})
    assert status == 200 and answer["results"], answer
    # The links work: a path and neighbours in the restored namespace.
    some = json.loads(links[0])
    place = lambda values: ",".join(str(value) for value in values)  # noqa: E731
    status, answer = second.call("GET", f"/v1/links/path?from={place(some['from'])}&to={place(some['to'])}", headers={"X-Soma-Namespace": "restored"})
    assert status == 200 and answer["found"], answer


@pytest.mark.parametrize("vectors", [False, True], ids=["embedded-again", "with-vectors"])
def test_a_backup_round_trips_on_the_sqlite_default(vectors):
    first, second = start(), start()
    try:
        round_trip(first, second, vectors)
    finally:
        first.stop()
        second.stop()


@pytest.mark.skipif(not (SERVERS and REDIS) and not os.environ.get("CI"), reason="needs scripts/servers.sh (PostgreSQL, Redis)")
def test_a_backup_round_trips_on_postgresql_and_redis():
    urls = [subprocess.run([SERVERS, "database", name], check=True, capture_output=True, text=True).stdout.strip()
            for name in ("soma_backup_a", "soma_backup_b")]
    first = start(POSTGRES_URL=urls[0], REDIS_URL=REDIS, REDIS_DB="7")
    second = start(POSTGRES_URL=urls[1], REDIS_URL=REDIS, REDIS_DB="8")
    try:
        round_trip(first, second, vectors=True)
    finally:
        first.stop()
        second.stop()
