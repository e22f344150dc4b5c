#!/usr/bin/env python3
"""A stand-in for an OpenAI-compatible embeddings server (POST <base>/embeddings).

No server with a real model runs on the test machines, so this one checks every request's shape
the way OpenAI's API documents it, answers with deterministic vectors (hashed words, so texts that
share words are close), and lets a test script failures and latency:

  POST /_control {"script": [{"status": 429, "retry_after": "1"}, {"status": 500}, {"delay_ms": 3000},
                             {"dimension": 12}], "delay_ms": 20}
      the next requests take the scripted answers in order; delay_ms is added to every request
  GET  /_stats    requests, texts, batch sizes, most requests in flight at once, bearer tokens seen,
                  requests refused for their shape
  POST /_reset    forget the statistics, the script and the delay
"""
import argparse
import hashlib
import json
import math
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = 0
        self.texts = 0
        self.batches = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.tokens = []
        self.refused = []
        self.script = []
        self.delay_ms = 0


def vector(text, dimension):
    values = [0.0] * dimension
    for word in re.findall(r"\w+", text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        bucket = int.from_bytes(digest[:4], "little") % dimension
        values[bucket] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values] if norm else values


def shape_problem(body, model):
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "'model' must be a non-empty string"
    if model and body["model"] != model:
        return f"model '{body['model']}' not found"
    inputs = body.get("input")
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) and t for t in inputs):
        return "'input' must be a non-empty string or a non-empty list of non-empty strings"
    if body.get("encoding_format", "float") != "float":
        return "'encoding_format' must be 'float'"
    dimensions = body.get("dimensions")
    if dimensions is not None and (not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1):
        return "'dimensions' must be a positive integer"
    unknown = set(body) - {"model", "input", "encoding_format", "dimensions", "user"}
    if unknown:
        return f"unknown fields {sorted(unknown)}"
    return None


def make_handler(state, args):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in two writes: without this, Nagle's algorithm and the client's
        # delayed acknowledgement hold every answer back by ~40 ms.
        disable_nagle_algorithm = True

        def log_message(self, *_):
            pass

        def reply(self, status, document, headers=None):
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw or b"null")
            except ValueError:
                return None

        def do_GET(self):
            if self.path == "/_stats":
                with state.lock:
                    self.reply(200, {
                        "requests": state.requests, "texts": state.texts, "batches": state.batches,
                        "max_in_flight": state.max_in_flight, "tokens": sorted(set(state.tokens)),
                        "refused": state.refused,
                    })
            elif self.path == "/healthz":
                self.reply(200, {"status": "ok"})
            else:
                self.reply(404, {"error": {"message": "not found"}})

        def do_POST(self):
            if self.path == "/_reset":
                self.body()
                with state.lock:
                    state.reset()
                return self.reply(200, {})
            if self.path == "/_control":
                control = self.body() or {}
                with state.lock:
                    state.script.extend(control.get("script", []))
                    if "delay_ms" in control:
                        state.delay_ms = control["delay_ms"]
                return self.reply(200, {})
            if not self.path.rstrip("/").endswith("/embeddings"):
                return self.reply(404, {"error": {"message": f"no route {self.path}"}})
            self.embeddings()

        def embeddings(self):
            body = self.body()
            with state.lock:
                state.requests += 1
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
                scripted = state.script.pop(0) if state.script else {}
                delay_ms = state.delay_ms + scripted.get("delay_ms", 0)
            try:
                if delay_ms:
                    time.sleep(delay_ms / 1000)
                token = self.headers.get("Authorization", "")
                with state.lock:
                    state.tokens.append(token)
                if args.api_key and token != f"Bearer {args.api_key}":
                    return self.reply(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
                problem = shape_problem(body, args.model)
                if problem:
                    with state.lock:
                        state.refused.append(problem)
                    return self.reply(400, {"error": {"message": problem, "type": "invalid_request_error"}})
                if "status" in scripted:
                    headers = {"Retry-After": str(scripted["retry_after"])} if "retry_after" in scripted else {}
                    return self.reply(scripted["status"], {"error": {"message": f"scripted {scripted['status']}"}}, headers)
                inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                dimension = scripted.get("dimension") or body.get("dimensions") or args.dimension
                with state.lock:
                    state.texts += len(inputs)
                    state.batches.append(len(inputs))
                self.reply(200, {
                    "object": "list", "model": body["model"],
                    "data": [{"object": "embedding", "index": i, "embedding": vector(t, dimension)} for i, t in enumerate(inputs)],
                    "usage": {"prompt_tokens": sum(len(t.split()) for t in inputs), "total_tokens": sum(len(t.split()) for t in inputs)},
                })
            finally:
                with state.lock:
                    state.in_flight -= 1

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dimension", type=int, default=384)
    parser.add_argument("--api-key", default="")
    parser.add_argument("--model", default="", help="refuse other model names (default: accept any)")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), make_handler(State(), args))
    server.daemon_threads = True
    server.allow_reuse_address = True
    print(f"embeddings stand-in on http://{args.host}:{args.port}/v1", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
