#!/usr/bin/env python3
"""Fuzzes the running service's HTTP API from its own /openapi.json, and checks that every
protected route refuses requests without a token or with a wrong one.

1. schemathesis (PyPI) generates requests for every operation (at least --min-cases in total)
   with a valid token and fails on any 5xx and on any response that does not match the documented
   status codes, content type, headers and response schema.
2. Every operation of the document is called with no token and with a wrong one: each must answer
   401 or 403 (the probes, /metrics and /openapi.json are open by design).
3. /mcp (JSON-RPC, outside the OpenAPI document) gets --mcp-cases generated messages: malformed
   JSON, wrong JSON-RPC shapes, unknown methods and tools, every tool with arguments of the wrong
   types and sizes. Each answer must be below 500 and JSON (a JSON-RPC error, a tool error, or a
   4xx with the API's error body); the server must still answer /healthz afterwards.

The server is `soma serve` on the durable default (SQLite in a temporary directory).
Usage: scripts/fuzz_api.py --binary .build/debug/soma [--examples 80] [--min-cases 2000] [--seed N]
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

TOKEN = "fuzz-token-0123456789"
OPEN_PATHS = {"/", "/health", "/healthz", "/readyz", "/metrics", "/openapi.json"}
# What the document promises about responses; the checks of how strictly requests are validated
# (positive/negative data acceptance, 405 for undeclared methods) judge the generator's guesses
# about our input rules rather than our answers, so they are left out.
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance"


def call(port, method, path, headers):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, headers=headers,
                                     data=b"{}" if method in ("POST", "PATCH", "PUT") else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def start(binary, port, data):
    env = dict(os.environ, SOMA_PORT=str(port), SOMA_API_TOKEN=TOKEN, SOMA_RATE_LIMIT_MAX="0", SOMA_DATA_DIR=data, LOG_LEVEL="critical")
    server = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if call(port, "GET", "/healthz", {}) == 200:
                return server
        except OSError:
            time.sleep(0.1)
    raise SystemExit("soma serve did not start")


def fuzz(port, args):
    command = ["st", "run", f"http://127.0.0.1:{port}/openapi.json", "-H", f"Authorization: Bearer {TOKEN}",
               "--checks", CHECKS, "-n", str(args.examples), "--seed", str(args.seed), "--no-shrink",
               "--continue-on-failure", "--request-timeout", "20",
               # Coordinates have a pattern the generator rarely meets by chance: let it filter.
               "--suppress-health-check", "filter_too_much",
               # JSON Lines bodies have no serializer in schemathesis; the import's bad input is
               # covered by SomaServiceTests (GuardTests).
               "--exclude-path", "/v1/import"]
    print("$ " + " ".join(command).replace(TOKEN, "***"), flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    output = result.stdout + result.stderr
    generated = re.search(r"(\d+) generated", output)
    cases = int(generated.group(1)) if generated else 0
    # The details of failures and errors, then the summary (the progress lines before are noise).
    starts = [output.find(header) for header in ("= FAILURES", "= ERRORS", "= WARNINGS", "= SUMMARY") if header in output]
    print(output[min(starts):].strip() if starts else output[-3000:])
    return result.returncode, cases, output


def auth_sweep(port):
    document = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json").read())
    refused, leaks = 0, []
    for path, item in document["paths"].items():
        if path in OPEN_PATHS:
            continue
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        for method in item:
            if method.upper() not in ("GET", "POST", "PATCH", "PUT", "DELETE"):
                continue
            for label, headers in (("no token", {}), ("wrong token", {"Authorization": "Bearer wrong"})):
                status = call(port, method.upper(), concrete, dict(headers, **{"Content-Type": "application/json"}))
                if status in (401, 403):
                    refused += 1
                else:
                    leaks.append(f"{method.upper()} {path} with {label}: {status}")
    return refused, leaks


MCP_TOOLS = ["store_memory", "recall", "get_memory", "update_memory", "forget_memory", "link_memories", "neighbours", "shortest_path", "stats", "no_such_tool"]
MCP_FIELDS = ["text", "payload", "coordinate", "type", "importance", "ttl_seconds", "query", "top_k", "mode", "filters", "from", "to", "weight",
              "link_type", "limit", "max_depth"]


def mcp_value(generator, depth=0):
    """Anything JSON can hold, skewed towards the edges: huge, empty, deep, odd numbers and strings."""
    choice = generator.randrange(12)
    if choice == 0:
        return None
    if choice == 1:
        return generator.choice([True, False])
    if choice == 2:
        return generator.choice([0, -1, 1e308, -1e-308, 2**63, 3.5, -7])
    if choice == 3:
        return "x" * generator.choice([0, 1, 70, 5000, 200_000])
    if choice == 4:
        return generator.choice(["1,2,3", "", "nan,1", "1,,2", ",".join(["1"] * 100), "\u0000", "soma://other/memory/1"])
    if choice == 5 and depth < 40:
        return [mcp_value(generator, depth + 1)]
    if choice == 6 and depth < 40:
        return {generator.choice(MCP_FIELDS): mcp_value(generator, depth + 1)}
    if choice == 7:
        return [generator.uniform(-1e6, 1e6) for _ in range(generator.choice([0, 1, 3, 65]))]
    if choice == 8:
        return {"text": generator.choice(["remember", "x" * 3000])}
    return generator.choice(["hybrid", "vector", "keyword", "semantic", "episodic", 5, "1,1"])


def mcp_message(generator, number):
    """A message for /mcp: mostly well-formed JSON-RPC with bad contents, some not JSON-RPC at all."""
    kind = generator.randrange(10)
    if kind == 0:
        return generator.choice([b"{", b"[]", b"null", b"\xff\xfe", b'{"jsonrpc":"2.0"}', b"[" * 5000, b'{"jsonrpc":"2.0","id":1,"method":7}'])
    if kind == 1:
        message = {"jsonrpc": generator.choice(["2.0", "1.0", None]), "id": mcp_value(generator), "method": generator.choice(["tools/call", "no/such", "", "initialize"])}
    elif kind == 2:
        message = {"jsonrpc": "2.0", "id": number, "method": generator.choice(["resources/read", "prompts/get", "tools/list", "resources/list"]),
                   "params": {"uri": mcp_value(generator), "name": mcp_value(generator), "arguments": mcp_value(generator)}}
    else:
        arguments = {generator.choice(MCP_FIELDS): mcp_value(generator) for _ in range(generator.randrange(6))}
        message = {"jsonrpc": "2.0", "id": number, "method": "tools/call",
                   "params": {"name": generator.choice(MCP_TOOLS), "arguments": arguments if generator.randrange(8) else mcp_value(generator)}}
    return json.dumps(message).encode()


def mcp_fuzz(port, seed, cases):
    generator = random.Random(seed)
    failures, answered = [], 0
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2025-11-25"}
    for number in range(cases):
        body = mcp_message(generator, number)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/mcp", method="POST", headers=headers, data=body)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read()
        except OSError as error:  # no answer at all (a hang or a dropped connection)
            failures.append(f"no answer ({error}) for {body[:200]!r}")
            continue
        answered += 1
        try:
            json.loads(text) if text else None
            parsed = True
        except ValueError:
            parsed = False
        if status >= 500 or not parsed:
            failures.append(f"{status} for {body[:200]!r}: {text[:200]!r}")
    alive = call(port, "GET", "/healthz", {}) == 200
    return answered, failures, alive


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/debug/soma")
    parser.add_argument("--port", type=int, default=9633)
    parser.add_argument("--examples", type=int, default=80, help="schemathesis examples per operation")
    parser.add_argument("--min-cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    parser.add_argument("--mcp-cases", type=int, default=1500, help="generated messages for /mcp")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = start(args.binary, args.port, data)
        try:
            status, cases, output = fuzz(args.port, args)
            refused, leaks = auth_sweep(args.port)
            mcp_answered, mcp_failures, alive = mcp_fuzz(args.port, args.seed, args.mcp_cases)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"fuzzing: {cases} generated requests (seed {args.seed}), schemathesis exit {status}")
    print(f"auth: {refused} requests without a token or with a wrong one refused (401/403), {len(leaks)} let through")
    for leak in leaks:
        print("  " + leak)
    print(f"mcp: {mcp_answered} generated messages to /mcp, {len(mcp_failures)} answered 5xx or not JSON; /healthz after: {'200' if alive else 'down'}")
    for failure in mcp_failures[:20]:
        print("  " + failure)
    failed = status != 0 or cases < args.min_cases or leaks or mcp_failures or not alive
    if cases < args.min_cases:
        print(f"too few requests generated: {cases} < {args.min_cases}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
