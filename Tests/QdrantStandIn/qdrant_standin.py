#!/usr/bin/env python3
"""A stand-in for Qdrant's REST API, for tests: no Qdrant server runs on these machines.

Every request is checked against Qdrant's official OpenAPI document (v1.19.0, the copy beside
this file) with openapi-core; a request the document does not allow is answered 400 and counted.
Results are computed by qdrant-client's local mode (`QdrantClient(":memory:")`, Qdrant's own
Python implementation of the same semantics) and answered in Qdrant's envelope:
`{"result": ..., "status": "ok", "time": s}` or `{"status": {"error": "..."}, "time": s}`.

    python3 Tests/QdrantStandIn/qdrant_standin.py --port 6333 [--api-key KEY]

`GET /__standin/stats` reports how many requests were seen and how many broke the document.
"""
import argparse
import warnings
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
from qdrant_client import QdrantClient, models
from werkzeug.wrappers import Request as WerkzeugRequest

# Local mode warns that payload indexes do nothing there; creating them is still what is tested.
warnings.filterwarnings("ignore", message="Payload indexes have no effect")
HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = OpenAPI.from_file_path(os.path.join(HERE, "qdrant-openapi-v1.19.0.json"))


class QdrantError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class StandIn:
    def __init__(self):
        self.client = QdrantClient(":memory:")
        self.lock = threading.Lock()  # local mode is not meant for concurrent writers
        self.seen = 0
        self.invalid = 0
        self.invalid_examples = []

    def collection(self, name):
        if not self.client.collection_exists(name):
            raise QdrantError(404, f"Not found: Collection `{name}` doesn't exist!")

    def handle(self, method, path, query, body):
        parts = [p for p in path.split("/") if p]
        if parts in (["healthz"], ["readyz"], ["livez"]):
            return "healthz check passed"
        if parts == [] and method == "GET":
            return {"title": "qdrant stand-in", "version": "1.19.0"}
        if len(parts) < 2 or parts[0] != "collections":
            raise QdrantError(404, f"Not found: {path}")
        name, rest = parts[1], parts[2:]
        with self.lock:
            if rest == [] and method == "PUT":
                if self.client.collection_exists(name):
                    raise QdrantError(409, f"Wrong input: Collection `{name}` already exists!")
                request = models.CreateCollection.model_validate(body or {})
                self.client.create_collection(name, vectors_config=request.vectors)
                return True
            if rest == [] and method == "GET":
                self.collection(name)
                return self.client.get_collection(name).model_dump(mode="json", exclude_none=True)
            if rest == [] and method == "DELETE":
                return self.client.delete_collection(name)
            self.collection(name)
            if rest == ["index"] and method == "PUT":
                request = models.CreateFieldIndex.model_validate(body)
                result = self.client.create_payload_index(name, field_name=request.field_name, field_schema=request.field_schema)
                return result.model_dump(mode="json")
            if rest == ["points"] and method == "PUT":
                if "points" not in body:
                    raise QdrantError(400, "Bad request: the stand-in accepts the points list form only")
                points = models.PointsList.model_validate(body).points
                size = self.client.get_collection(name).config.params.vectors.size
                for point in points:
                    if isinstance(point.vector, list) and len(point.vector) != size:
                        raise QdrantError(400, f"Wrong input: Vector dimension error: expected dim: {size}, got {len(point.vector)}")
                result = self.client.upsert(name, points=points, wait=True)
                return result.model_dump(mode="json")
            if rest == ["points", "delete"] and method == "POST":
                selector = models.PointIdsList.model_validate(body) if "points" in body else models.FilterSelector.model_validate(body)
                result = self.client.delete(name, points_selector=selector, wait=True)
                return result.model_dump(mode="json")
            if rest == ["points", "query"] and method == "POST":
                request = models.QueryRequest.model_validate(body)
                size = self.client.get_collection(name).config.params.vectors.size
                if isinstance(request.query, list) and len(request.query) != size:
                    raise QdrantError(400, f"Wrong input: Vector dimension error: expected dim: {size}, got {len(request.query)}")
                response = self.client.query_points(
                    name, query=request.query, query_filter=request.filter, limit=request.limit or 10,
                    with_payload=request.with_payload if request.with_payload is not None else False,
                    score_threshold=request.score_threshold)
                return response.model_dump(mode="json", exclude_none=True)
            if rest == ["points", "scroll"] and method == "POST":
                request = models.ScrollRequest.model_validate(body or {})
                points, next_offset = self.client.scroll(
                    name, scroll_filter=request.filter, limit=request.limit or 10, offset=request.offset,
                    with_payload=request.with_payload if request.with_payload is not None else True)
                return {"points": [p.model_dump(mode="json", exclude_none=True) for p in points], "next_page_offset": next_offset}
            if rest == ["points"] and method == "POST":  # retrieve points by id
                request = models.PointRequest.model_validate(body)
                points = self.client.retrieve(name, ids=request.ids, with_payload=request.with_payload if request.with_payload is not None else True,
                                              with_vectors=request.with_vector if request.with_vector is not None else False)
                return [p.model_dump(mode="json", exclude_none=True) for p in points]
            if rest == ["points", "count"] and method == "POST":
                request = models.CountRequest.model_validate(body or {})
                return {"count": self.client.count(name, count_filter=request.filter, exact=True).count}
        raise QdrantError(404, f"Not found: {method} {path}")


STATE = StandIn()
API_KEY = None


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
        try:
            SPEC.validate_request(WerkzeugOpenAPIRequest(request))
        except Exception as error:  # any way the request breaks the document
            STATE.invalid += 1
            detail = f"{method} {url.path}: {error}"
            for cause in getattr(error, "schema_errors", []) or []:
                detail += f"; {cause.message}"
            STATE.invalid_examples.append(detail[:500])
            return self.answer(400, {"status": {"error": f"Format error (not allowed by Qdrant's OpenAPI document): {detail}"}, "time": 0})
        try:
            body = json.loads(raw) if raw else None
            result = STATE.handle(method, url.path, parse_qs(url.query), body)
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
    global API_KEY
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6333)
    parser.add_argument("--api-key")
    arguments = parser.parse_args()
    API_KEY = arguments.api_key
    server = ThreadingHTTPServer((arguments.host, arguments.port), Handler)
    print(f"qdrant stand-in on http://{arguments.host}:{arguments.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
