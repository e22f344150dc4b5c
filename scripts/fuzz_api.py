#!/usr/bin/env python3
"""Fuzzes the running service's HTTP API from its own /openapi.json, and checks that every
protected route refuses requests without a token or with a wrong one.

1. schemathesis (PyPI) generates requests for every operation (at least --min-cases in total)
   with a valid token and fails on any 5xx and on any response that does not match the documented
   status codes, content type, headers and response schema.
2. Every operation of the document is called with no token and with a wrong one: each must answer
   401 or 403 (the probes, /metrics and /openapi.json are open by design).

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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/debug/soma")
    parser.add_argument("--port", type=int, default=9633)
    parser.add_argument("--examples", type=int, default=80, help="schemathesis examples per operation")
    parser.add_argument("--min-cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = start(args.binary, args.port, data)
        try:
            status, cases, output = fuzz(args.port, args)
            refused, leaks = auth_sweep(args.port)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"fuzzing: {cases} generated requests (seed {args.seed}), schemathesis exit {status}")
    print(f"auth: {refused} requests without a token or with a wrong one refused (401/403), {len(leaks)} let through")
    for leak in leaks:
        print("  " + leak)
    failed = status != 0 or cases < args.min_cases or leaks
    if cases < args.min_cases:
        print(f"too few requests generated: {cases} < {args.min_cases}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
