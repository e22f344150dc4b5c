"""Loads COUNT memories into a running service through /v1/memories/bulk, 500 at a time: memory i at
coordinate (i % 100, i // 100), where scripts/bench/get.lua looks for it.

    python3 scripts/bench/load_memories.py PORT COUNT
"""
import json
import sys
import urllib.request

port, count = sys.argv[1], int(sys.argv[2])
topics = ["alpha budget", "meeting notes", "project falcon", "release plan", "customer call", "agent memory"]
for start in range(0, count, 500):
    items = [{"coord": f"{i % 100},{i // 100}", "payload": {"text": f"{topics[i % len(topics)]} topic {i % 97} item {i}"}}
             for i in range(start, min(start + 500, count))]
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/memories/bulk", data=json.dumps({"items": items}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
