#!/usr/bin/env python3
"""Qdrant's REST API over Qdrant's own engine, for tests: no Qdrant server binary runs on these
machines, but its engine does (PyPI's qdrant-edge-py: the Rust crates `segment`, `shard` and
`quantization` of Qdrant itself, with no REST layer).

Every request is checked against Qdrant's official OpenAPI document (v1.19.0, the copy beside
this file) with openapi-core; a request the document does not allow is answered 400 and counted.
The subset of the API the adapter uses is served (health, collections PUT/GET/DELETE, payload
index, upsert, delete by id or filter, query, retrieve, count, scroll) from one EdgeShard per
collection, persisted under --data (kept across a restart), answered in Qdrant's envelope:
`{"result": ..., "status": "ok", "time": s}` or `{"status": {"error": "..."}, "time": s}`.
Searches run on the engine's HNSW once a collection holds more than its indexing threshold
(`--indexing-threshold-kb`, Qdrant's default 10000 KB; a collection's own `optimizers_config` wins).

    python3 Tests/QdrantStandIn/qdrant_standin.py --port 6333 --data DIR [--api-key KEY]

`GET /__standin/stats` reports how many requests were seen and how many broke the document.
"""
import argparse
import json
import os
import shutil
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import qdrant_edge as edge
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
from werkzeug.wrappers import Request as WerkzeugRequest

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = OpenAPI.from_file_path(os.path.join(HERE, "qdrant-openapi-v1.19.0.json"))
CONFIG_FILE = "collection.json"


class QdrantError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class EdgeEngine:
    """Qdrant's own engine (qdrant-edge-py: the crates `segment`, `shard`, `quantization`), one
    EdgeShard per collection, persisted under DIRECTORY/<collection>. Edge runs no optimizer of its
    own: after writes, a background pass calls `optimize()` (what Qdrant's optimizers do), which
    builds the HNSW graph once a segment holds more than the collection's indexing threshold."""

    def __init__(self, directory, indexing_threshold_kb):
        self.directory = directory
        self.indexing_threshold_kb = indexing_threshold_kb
        os.makedirs(directory, exist_ok=True)
        self.lock = threading.RLock()
        self.shards = {}
        self.configs = {}
        self.dirty = set()
        for name in sorted(os.listdir(directory)):
            meta = os.path.join(directory, name, CONFIG_FILE)
            if os.path.exists(meta):
                with open(meta) as file:
                    self.configs[name] = json.load(file)
                self.shards[name] = edge.EdgeShard.load(os.path.join(directory, name, "shard"))
        threading.Thread(target=self.optimizer, daemon=True).start()

    def optimizer(self):
        while True:
            time.sleep(2)  # as Qdrant's optimizers, in the background; not so often it starves the tests' other servers
            with self.lock:
                for name in list(self.dirty):
                    started = time.monotonic()
                    self.shards[name].optimize()  # holds the GIL: every request waits for it
                    slow(f"optimize {name}", started)
                self.dirty.clear()

    def shard(self, name):
        if name not in self.shards:
            raise QdrantError(404, f"Not found: Collection `{name}` doesn't exist!")
        return self.shards[name]

    def create(self, name, body):
        if name in self.shards:
            raise QdrantError(409, f"Wrong input: Collection `{name}` already exists!")
        vectors = body.get("vectors") or {}
        if "size" not in vectors:
            raise QdrantError(400, "Bad request: the test server accepts one unnamed dense vector per point")
        threshold = (body.get("optimizers_config") or {}).get("indexing_threshold", self.indexing_threshold_kb)
        config = {"size": vectors["size"], "distance": vectors.get("distance", "Cosine"), "indexing_threshold": threshold}
        path = os.path.join(self.directory, name)
        os.makedirs(path)
        shard = edge.EdgeShard.create(os.path.join(path, "shard"), edge.EdgeConfig(
            vectors=edge.EdgeVectorParams(size=config["size"], distance=getattr(edge.Distance, config["distance"])),
            optimizers=edge.EdgeOptimizersConfig(indexing_threshold=threshold)))
        with open(os.path.join(path, CONFIG_FILE), "w") as file:
            json.dump(config, file)
        self.shards[name], self.configs[name] = shard, config

    def describe(self, name):
        info = self.shard(name).info()
        config = self.configs[name]
        return {
            "status": "green", "optimizer_status": "ok", "segments_count": info.segments_count,
            "points_count": info.points_count, "indexed_vectors_count": info.indexed_vectors_count,
            "config": {"params": {"vectors": {"size": config["size"], "distance": config["distance"]}},
                       "optimizer_config": {"indexing_threshold": config["indexing_threshold"]}},
            "payload_schema": {field: {"data_type": str(index.data_type).split(".")[-1].lower(), "points": index.points}
                               for field, index in info.payload_schema.items()},
        }

    def drop(self, name):
        if name not in self.shards:
            return False
        self.shards.pop(name).close()
        self.configs.pop(name)
        self.dirty.discard(name)
        shutil.rmtree(os.path.join(self.directory, name))
        return True

    def update(self, name, operation):
        shard = self.shard(name)
        # The engine's write-ahead log holds it once `update` returns, as Qdrant's does with
        # wait=true; segments are flushed at close (SIGTERM), not per write, which would load the
        # disk the tests' PostgreSQL shares.
        shard.update(operation)
        self.dirty.add(name)

    def close(self):
        with self.lock:
            for shard in self.shards.values():
                shard.flush()
                shard.close()
            self.shards.clear()


def point_id(value):
    return value if isinstance(value, int) else str(value)


def condition(document):
    """A condition of Qdrant's JSON filter as the engine's object."""
    if "must" in document or "should" in document or "must_not" in document:
        return edge_filter(document)
    if "has_id" in document:
        return edge.HasIdCondition({point_id(value) for value in document["has_id"]})
    if "key" in document:
        match = document.get("match")
        if match is None:
            raise QdrantError(400, f"Bad request: the test server matches by value only: {document}")
        if "value" in match:
            return edge.FieldCondition(document["key"], match=edge.MatchValue(match["value"]))
        if "any" in match:
            return edge.FieldCondition(document["key"], match=edge.MatchAny(match["any"]))
    raise QdrantError(400, f"Bad request: a condition the test server does not know: {document}")


def edge_filter(document):
    if document is None:
        return None
    return edge.Filter(**{part: [condition(item) for item in document[part]] for part in ("must", "should", "must_not") if document.get(part)})


def record(point, with_vector):
    answer = {"id": point.id if isinstance(point.id, int) else str(point.id), "payload": point.payload}
    if with_vector and point.vector is not None:
        answer["vector"] = point.vector
    return answer


class StandIn:
    def __init__(self, engine):
        self.engine = engine
        self.seen = 0
        self.invalid = 0
        self.invalid_examples = []

    def handle(self, method, path, query, body):
        parts = [p for p in path.split("/") if p]
        if parts in (["healthz"], ["readyz"], ["livez"]):
            return "healthz check passed"
        if parts == [] and method == "GET":
            return {"title": "qdrant engine (qdrant-edge-py) behind Qdrant's REST API", "version": "1.19.0"}
        if len(parts) < 2 or parts[0] != "collections":
            raise QdrantError(404, f"Not found: {path}")
        name, rest = parts[1], parts[2:]
        engine = self.engine
        done = {"operation_id": 0, "status": "completed"}
        with engine.lock:
            if rest == [] and method == "PUT":
                engine.create(name, body or {})
                return True
            if rest == [] and method == "GET":
                return engine.describe(name)
            if rest == [] and method == "DELETE":
                return engine.drop(name)
            shard = engine.shard(name)
            if rest == ["index"] and method == "PUT":
                schema = body["field_schema"]
                kind = schema if isinstance(schema, str) else schema["type"]
                engine.update(name, edge.UpdateOperation.create_field_index(body["field_name"], getattr(edge.PayloadSchemaType, kind.capitalize())))
                return done
            if rest == ["points"] and method == "PUT":
                if "points" not in body:
                    raise QdrantError(400, "Bad request: the test server accepts the points list form only")
                size = engine.configs[name]["size"]
                points = []
                for point in body["points"]:
                    if not isinstance(point.get("vector"), list):
                        raise QdrantError(400, "Bad request: the test server accepts one unnamed dense vector per point")
                    if len(point["vector"]) != size:
                        raise QdrantError(400, f"Wrong input: Vector dimension error: expected dim: {size}, got {len(point['vector'])}")
                    points.append(edge.Point(point_id(point["id"]), point["vector"], point.get("payload") or {}))
                engine.update(name, edge.UpdateOperation.upsert_points(points))
                return done
            if rest == ["points", "delete"] and method == "POST":
                if "points" in body:
                    engine.update(name, edge.UpdateOperation.delete_points([point_id(value) for value in body["points"]]))
                else:
                    engine.update(name, edge.UpdateOperation.delete_points_by_filter(edge_filter(body["filter"])))
                return done
            if rest == ["points", "query"] and method == "POST":
                vector = body.get("query")
                size = engine.configs[name]["size"]
                if not isinstance(vector, list):
                    raise QdrantError(400, "Bad request: the test server queries by a dense vector only")
                if len(vector) != size:
                    raise QdrantError(400, f"Wrong input: Vector dimension error: expected dim: {size}, got {len(vector)}")
                hits = shard.query(edge.QueryRequest(
                    limit=body.get("limit") or 10, query=edge.Query.Nearest(vector), filter=edge_filter(body.get("filter")),
                    with_payload=bool(body.get("with_payload", False)), score_threshold=body.get("score_threshold")))
                return {"points": [{**record(hit, False), "version": hit.version, "score": hit.score} for hit in hits]}
            if rest == ["points", "scroll"] and method == "POST":
                body = body or {}
                offset = body.get("offset")
                points, next_offset = shard.scroll(edge.ScrollRequest(
                    offset=None if offset is None else point_id(offset), limit=body.get("limit") or 10,
                    filter=edge_filter(body.get("filter")), with_payload=bool(body.get("with_payload", True))))
                return {"points": [record(point, False) for point in points],
                        "next_page_offset": None if next_offset is None else point_id(next_offset)}
            if rest == ["points"] and method == "POST":  # retrieve points by id
                with_vector = bool(body.get("with_vector", False))
                points = shard.retrieve([point_id(value) for value in body["ids"]], bool(body.get("with_payload", True)), with_vector)
                return [record(point, with_vector) for point in points]
            if rest == ["points", "count"] and method == "POST":
                return {"count": shard.count(edge.CountRequest(exact=True, filter=edge_filter((body or {}).get("filter"))))}
        raise QdrantError(404, f"Not found: {method} {path}")


STATE = None
API_KEY = None


def slow(what, started, limit=1.0):
    """Logs a step that took over `limit` seconds: clients time out after 5 s by default, and
    this log says where a stalled request's time went (the engine and the checks share one GIL)."""
    took = time.monotonic() - started
    if took > limit:
        print(f"slow: {what} took {took:.2f} s", flush=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, document):
        data = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def dispatch(self, method):
        started = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        if url.path == "/__standin/stats":
            return self.answer(200, {"seen": STATE.seen, "invalid": STATE.invalid, "invalid_examples": STATE.invalid_examples[-5:]})
        STATE.seen += 1
        # As in Qdrant, the health endpoints answer without the key.
        if API_KEY is not None and url.path not in ("/healthz", "/livez", "/readyz") and self.headers.get("api-key") != API_KEY:
            return self.answer(401, {"status": {"error": "Must provide an API key or an Authorization bearer token"}, "time": 0})
        # The document's server is {protocol}://{hostname}:{port}; any host and port match it.
        request = WerkzeugRequest.from_values(
            base_url=f"http://localhost:{self.server.server_address[1]}", method=method, path=url.path, query_string=url.query, data=raw,
            headers={"Content-Type": self.headers.get("Content-Type", "application/json")} if raw else {})
        checked = time.monotonic()
        try:
            SPEC.validate_request(WerkzeugOpenAPIRequest(request))
        except Exception as error:  # any way the request breaks the document
            STATE.invalid += 1
            detail = f"{method} {url.path}: {error}"
            for cause in getattr(error, "schema_errors", []) or []:
                detail += f"; {cause.message}"
            STATE.invalid_examples.append(detail[:500])
            return self.answer(400, {"status": {"error": f"Format error (not allowed by Qdrant's OpenAPI document): {detail}"}, "time": 0})
        slow(f"checking {method} {url.path} ({len(raw)} bytes)", checked)
        try:
            body = json.loads(raw) if raw else None
            handled = time.monotonic()
            result = STATE.handle(method, url.path, parse_qs(url.query), body)
            slow(f"{method} {url.path}", handled)
            self.answer(200, {"result": result, "status": "ok", "time": time.monotonic() - started})
        except QdrantError as error:
            self.answer(error.status, {"status": {"error": error.message}, "time": time.monotonic() - started})
        except Exception as error:  # qdrant-client's own checks: wrong input
            self.answer(400, {"status": {"error": f"Wrong input: {error}"}, "time": time.monotonic() - started})

    def do_GET(self):
        self.dispatch("GET")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")


def main():
    global API_KEY, STATE
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6333)
    parser.add_argument("--api-key")
    parser.add_argument("--data", required=True, help="directory of the collections (kept across restarts)")
    parser.add_argument("--indexing-threshold-kb", type=int, default=10000)
    arguments = parser.parse_args()
    API_KEY = arguments.api_key
    engine = EdgeEngine(arguments.data, arguments.indexing_threshold_kb)
    STATE = StandIn(engine)
    server = ThreadingHTTPServer((arguments.host, arguments.port), Handler)

    def stop(*_):
        # Flushed and closed: a stop/start keeps every acknowledged point.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    print(f"Qdrant's engine behind its REST API on http://{arguments.host}:{arguments.port}, data in {arguments.data}", flush=True)
    server.serve_forever()
    engine.close()


if __name__ == "__main__":
    main()
