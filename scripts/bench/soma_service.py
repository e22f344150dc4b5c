"""`soma serve` as a child process on a free loopback port, for the Python benchmarks."""
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request


class Service:
    def __init__(self, binary, environment=None, data=None, ready="/readyz"):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.data = data or tempfile.mkdtemp(prefix="soma-bench-")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOMA_", "POSTGRES_", "REDIS_", "QDRANT_", "KAFKA_"))}
        env.update({"SOMA_PORT": str(self.port), "SOMA_DATA_DIR": self.data, "SOMA_RATE_LIMIT_MAX": "0", "LOG_LEVEL": "warning"})
        env.update(environment or {})
        self.process = subprocess.Popen([binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(3000):
            try:
                self.call("GET", ready)
                return
            except OSError:
                if self.process.poll() is not None:
                    raise SystemExit(f"soma serve exited with {self.process.returncode}")
                time.sleep(0.1)
        raise SystemExit("soma serve did not become ready")

    def call(self, method, path, body=None):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method, data=json.dumps(body).encode() if body else None,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=300) as response:
            return json.loads(response.read() or b"null")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=300)
