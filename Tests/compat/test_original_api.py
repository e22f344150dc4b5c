"""The original service's clients, settings and operations, against `soma serve`.

Schema-driven: every operation of the original's OpenAPI document (reference copy in
Tests/compat/original/openapi.json) is called with arguments made from its own parameter and body
schemas, and every answer is validated against the response schema the document gives for it.
Then the original's metric names, its root answer, and its settings (SOMA_NAMESPACE,
UVICORN_PORT, SOMA_HYBRID_RECALL_DEFAULT, SOMA_MAX_REQUEST_BODY_MB, the ignored ones).

    python3 -m pytest -q Tests/compat      (after swift build; SOMA_BINARY overrides .build/debug/soma)
"""
import json
import os
import pathlib
import re
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import jsonschema
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = os.environ.get("SOMA_BINARY", str(ROOT / ".build/debug/soma"))
DOCUMENT = json.loads((ROOT / "Tests/compat/original/openapi.json").read_text())
TOKEN = "compat-token-0123456789"

# Values for the parameters the document names, by name: the document says only "string".
COORDINATE_NAMES = {"coord", "frm", "to", "from_coord", "to_coord"}
VALUES = {"query": "original client memory", "top_k": 3, "limit": 10, "link_type": "related", "type": "episodic",
          "min": "-10,-10,-10", "max": "10,10,10", "term": "original", "weight": 1.5}
# The document leaves out the bodies of its two decorated routes (their parameters read `args` and
# `kwargs`); these are the bodies its clients send, from the original's request models.
WRAPPER_BODIES = {
    ("post", "/store"): {"coord": "1,2,3", "payload": {"text": "original client memory", "importance": 3}, "type": "episodic"},
    ("post", "/recall"): {"query": "original client memory", "top_k": 3},
}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, port, process, data, log):
        self.port, self.process, self.data, self.log = port, process, data, log

    def call(self, method, path, body=None, token=TOKEN, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method.upper(), data=data,
                                         headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                text = response.read()
                return response.status, (json.loads(text) if text and response.headers.get_content_type() == "application/json" else text.decode())
        except urllib.error.HTTPError as error:
            text = error.read()
            return error.code, (json.loads(text) if text else None)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.seek(0)
        return self.log.read().decode(errors="replace")


def start_with_tokens(grants, **settings):
    """A server with a tokens file: `grants` maps each token to its namespaces ("*" for all)."""
    tokens = tempfile.NamedTemporaryFile("w", suffix=".tokens", delete=False)
    tokens.write("".join(f"{token}: {namespaces}\n" for token, namespaces in grants.items()))
    tokens.close()
    return start(SOMA_API_TOKENS_FILE=tokens.name, SOMA_API_TOKEN="", **settings)


def start(port_variable="SOMA_PORT", **settings):
    port = free_port()
    data = tempfile.mkdtemp(prefix="soma-compat-")
    log = tempfile.TemporaryFile()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("SOMA_", "UVICORN_", "POSTGRES_", "REDIS_", "QDRANT_", "KAFKA_"))}
    environment.update({port_variable: str(port), "SOMA_API_TOKEN": TOKEN, "SOMA_DATA_DIR": data, "SOMA_EMBEDDER": "hash",
                        "SOMA_RATE_LIMIT_MAX": "0", "LOG_LEVEL": "info"}, **settings)
    process = subprocess.Popen([BINARY, "serve"], env=environment, stdout=log, stderr=subprocess.STDOUT)
    server = Server(port, process, data, log)
    for _ in range(600):
        try:
            if server.call("GET", "/healthz", token=None)[0] == 200:
                return server
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"soma serve did not start: {server.stop()[-2000:]}")


@pytest.fixture(scope="module")
def server():
    started = start()
    yield started
    started.stop()


def resolve(schema):
    while "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def instance(schema, name=None):
    """A valid value for a schema, using VALUES for fields the schema types only as strings."""
    schema = resolve(schema)
    if "anyOf" in schema:
        return instance(next(option for option in schema["anyOf"] if option.get("type") != "null"), name)
    if name in COORDINATE_NAMES:
        return {"coord": "1,2,3", "frm": "1,2,3", "from_coord": "1,2,3", "to": "4,5,6", "to_coord": "4,5,6"}[name]
    if name in VALUES:
        return VALUES[name]
    kind = schema.get("type")
    if kind == "object":
        if "properties" not in schema:
            return {"text": "original client memory"}
        return {field: instance(sub, field) for field, sub in schema["properties"].items()}
    if kind == "array":
        if name == "queries":
            return ["original client memory", "another"]
        return [instance(schema["items"], name)]
    return {"string": "original", "integer": 1, "number": 1.0, "boolean": True}[kind]


def request_for(method, path, operation):
    query = {parameter["name"]: instance(parameter["schema"], parameter["name"]) for parameter in operation.get("parameters", [])
             if parameter["in"] == "query" and parameter["name"] not in ("args", "kwargs")}
    body = WRAPPER_BODIES.get((method, path))
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is not None:
        body = instance(content["schema"], "context" if path == "/recall_with_context" else None)
        if path == "/recall_with_context":
            body = {"query": "original client memory", "context": {"text": "original"}, "top_k": 3}
    return f"{path}?{urllib.parse.urlencode(query)}" if query else path, body


def validate(answer, operation):
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.validate(answer, {**schema, "components": DOCUMENT["components"]}, cls=jsonschema.Draft202012Validator)


def seed(server):
    for coordinate, text in [("1,2,3", "original client memory one"), ("4,5,6", "original client memory two"), ("-1.5,0.25,7", "a third")]:
        assert server.call("POST", "/store", {"coord": coordinate, "payload": {"text": text}})[0] == 200
    assert server.call("POST", "/link", {"from_coord": "1,2,3", "to_coord": "4,5,6", "type": "related", "weight": 2.5})[0] == 200


def test_every_operation_of_the_original_document_answers_its_schema(server):
    seed(server)
    operations = [(method, path, operation) for path, item in DOCUMENT["paths"].items() for method, operation in item.items()]
    assert len(operations) == 14, "the reference document's operations"
    for method, path, operation in operations:
        target, body = request_for(method, path, operation)
        status, answer = server.call(method, target, body)
        assert status == 200, f"{method.upper()} {target} -> {status} {answer}"
        validate(answer, operation)


def test_shapes_the_document_leaves_open_are_the_originals(server):
    for coordinate in ("20,1", "21,2"):
        assert server.call("POST", "/store", {"coord": coordinate, "payload": {"text": "linked"}})[0] == 200
    assert server.call("POST", "/link", {"from_coord": "20,1", "to_coord": "21,2", "type": "cites", "weight": 2.5})[0] == 200
    status, answer = server.call("GET", "/neighbors?coord=20,1")
    assert status == 200
    [[coordinate, edge]] = answer["neighbors"]
    assert coordinate == [21.0, 2.0]
    assert edge["to"] == [21.0, 2.0] and edge["type"] == "cites" and edge["weight"] == 2.5
    assert abs(edge["timestamp"] - time.time()) < 120, "seconds since the epoch, as Python's time.time()"
    status, answer = server.call("POST", "/recall_with_context", {"query": "original client memory", "context": {"a": 1}, "top_k": 2})
    assert status == 200 and answer["results"] and all("payload" not in item and "text" in item for item in answer["results"]), answer
    status, answer = server.call("GET", "/", token=None)
    assert status == 200 and answer == {"message": "SomaFractalMemory API is running", "metrics": "/metrics"}


def test_keyword_search_defaults_to_exact_matching_and_importance_comes_from_the_payload(server):
    assert server.call("POST", "/store", {"coord": "9,9,9", "payload": {"text": "zebra crossing", "importance": 7}})[0] == 200
    status, exact = server.call("POST", "/keyword_search", {"term": "zebra crossing"})
    assert status == 200 and [item["text"] for item in exact["results"]] == ["zebra crossing"]
    status, memory = server.call("GET", "/v1/memories/9,9,9")
    assert status == 200 and memory["importance"] == 7, memory


def metric(text, name, **labels):
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
            if all(found.get(key) == value for key, value in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_the_originals_metric_names_count_the_traffic():
    server = start()
    try:
        for _ in range(3):
            assert server.call("POST", "/store", {"coord": "1,1", "payload": {"text": "counted"}})[0] == 200
        assert server.call("GET", "/no/such/route")[0] == 404
        assert server.call("GET", "/stats", token="wrong-token")[0] in (401, 403)
        status, text = server.call("GET", "/metrics", token=None)
        assert status == 200
        assert metric(text, "api_requests_total", endpoint="/store", method="POST") == 3
        assert metric(text, "api_responses_total", endpoint="/store", method="POST", status="200") == 3
        assert metric(text, "api_request_latency_seconds_count", endpoint="/store", method="POST") == 3
        assert metric(text, "http_404_requests_total") == 1
        assert metric(text, "api_requests_total", endpoint="NotFound", method="GET") == 1
    finally:
        server.stop()


def test_the_originals_settings_keep_their_meaning():
    # UVICORN_PORT alone sets the port; SOMA_NAMESPACE wins over SOMA_MEMORY_NAMESPACE as it did.
    server = start(port_variable="UVICORN_PORT", SOMA_NAMESPACE="moved_ns", SOMA_MEMORY_NAMESPACE="api_ns",
                   SOMA_MAX_REQUEST_BODY_MB="0.01", MEMORY_MODE="evented_enterprise", UVICORN_WORKERS="4",
                   SOMA_MODEL_NAME="sentence-transformers/all-MiniLM-L6-v2")
    try:
        assert server.call("POST", "/store", {"coord": "1,2", "payload": {"text": "where am I"}})[0] == 200
        assert server.call("GET", "/v1/memories/1,2", headers={"X-Soma-Namespace": "moved_ns"})[0] == 200
        assert server.call("GET", "/v1/memories/1,2", headers={"X-Soma-Namespace": "api_ns"})[0] == 404
        # 0.01 MB is 10,485 bytes: a body over it is refused with 413 and a JSON error.
        status, answer = server.call("POST", "/store", raw=json.dumps({"coord": "3,4", "payload": {"text": "x" * 12000}}).encode())
        assert status == 413 and answer["detail"], answer
    finally:
        log = server.stop()
    assert "MEMORY_MODE is set but ignored" in log and "UVICORN_WORKERS is set but ignored" in log, log[-3000:]
    assert "SOMA_MODEL_NAME" not in log, "the model it names is the one this build runs"


def test_hybrid_recall_default_can_be_turned_off():
    # By vector alone the short memory sharing the query's word is nearest; hybrid recall puts the
    # memory holding the query as a whole value first, as the original's default did.
    answers = {}
    for setting in ("1", "0"):
        server = start(SOMA_HYBRID_RECALL_DEFAULT=setting)
        try:
            assert server.call("POST", "/store", {"coord": "1,0", "payload": {"text": "quartz mineral"}})[0] == 200
            assert server.call("POST", "/store", {"coord": "2,0", "payload": {"title": "quartz", "text": "apple banana cherry date elder fig grape"}})[0] == 200
            status, answer = server.call("POST", "/recall", {"query": "quartz", "top_k": 1})
            assert status == 200
            answers[setting] = answer["matches"][0]["coordinate"]
        finally:
            server.stop()
    assert answers == {"1": [2.0, 0.0], "0": [1.0, 0.0]}, answers
