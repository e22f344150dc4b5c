"""Edges a real client and a real operator meet, against `soma serve` processes: an over-limit
chunked body, clients that stall or idle, and a second process on a served data directory.

    python3 -m pytest -q Tests/edges
"""
import json
import os
import pathlib
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "compat"))
from test_original_api import BINARY, TOKEN, free_port, start  # noqa: E402


def raw_request(port, head, body_chunks=(), timeout=20):
    """Sends a request byte for byte; the status line and the body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(head)
        for chunk in body_chunks:
            try:
                connection.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed before the whole body arrived: that is the point
        answer = b""
        while True:
            try:
                data = connection.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
            if b"\r\n\r\n" in answer and answer.endswith(b"}"):
                break
    status = answer.split(b"\r\n", 1)[0].decode()
    return status, answer.split(b"\r\n\r\n", 1)[-1]


def test_an_over_limit_chunked_body_is_413_as_with_a_length():
    server = start(SOMA_MAX_BODY_BYTES="1048576")
    try:
        head = (f"POST /v1/memories HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n").encode()
        piece = b"x" * 65536
        chunks = [b'{"coord":"1","payload":{"text":"'] + [piece] * 48 + [b'"}}']  # about 3 MB
        status, body = raw_request(server.port, head, (b"%x\r\n%s\r\n" % (len(c), c) for c in chunks + [b""]))
        assert status.startswith("HTTP/1.1 413"), (status, body[:200])
        assert json.loads(body)["code"] == "body_too_large"
        assert server.call("GET", "/v1/stats")[1]["total"] == 0
        # The same body with a Content-Length: the same answer.
        whole = b"".join(chunks)
        status, _ = raw_request(server.port, (f"POST /v1/memories HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                                              f"Content-Type: application/json\r\nContent-Length: {len(whole)}\r\n\r\n").encode(), [whole])
        assert status.startswith("HTTP/1.1 413"), status
    finally:
        server.stop()


def closed_within(connection, seconds):
    """True when the server closes the connection within `seconds`."""
    connection.settimeout(seconds)
    try:
        return connection.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def test_stalled_and_idle_clients_are_closed_and_the_service_stays_responsive():
    server = start(SOMA_HTTP_IDLE_TIMEOUT_SECONDS="2")
    try:
        stalled_head = socket.create_connection(("127.0.0.1", server.port))
        stalled_head.sendall(b"POST /v1/memories HTTP/1.1\r\nHost: x\r\nContent-")
        stalled_body = socket.create_connection(("127.0.0.1", server.port))
        stalled_body.sendall(f"POST /v1/memories HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                             "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"coord\"".encode())
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(200)]
        started = time.monotonic()
        # While 202 connections sit there, the service answers others.
        assert server.call("GET", "/v1/stats")[0] == 200
        assert closed_within(stalled_head, 8) and closed_within(stalled_body, 8)
        assert all(closed_within(connection, max(0.1, 8 - (time.monotonic() - started))) for connection in idle)
        assert time.monotonic() - started < 8, "closed within the timeout and some slack"
        assert server.call("POST", "/v1/memories", {"coord": "1", "payload": {"text": "after"}})[0] in (200, 201)
        for connection in [stalled_head, stalled_body, *idle]:
            connection.close()
    finally:
        server.stop()


def run_second(arguments, data, **environment):
    started = time.monotonic()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SOMA_", "POSTGRES_", "REDIS_", "QDRANT_", "KAFKA_"))}
    env.update({"SOMA_DATA_DIR": data, "SOMA_EMBEDDER": "hash", "SOMA_PORT": str(free_port()), **environment})
    run = subprocess.run([BINARY, *arguments], env=env, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    return run, time.monotonic() - started


def test_one_process_owns_a_data_directory_and_a_killed_owner_leaves_no_lock():
    server = start()
    try:
        holder = str(server.process.pid)
        for arguments in (["serve"], ["mcp", "--local"], ["reindex"], ["migrate"]):
            run, took = run_second(arguments, server.data)
            output = run.stdout + run.stderr
            assert run.returncode != 0, (arguments, output)
            assert took < 5, (arguments, took)
            assert server.data in output and holder in output and "in use" in output, (arguments, output)
        # The owner still serves, unharmed.
        assert server.call("POST", "/v1/memories", {"coord": "1", "payload": {"text": "still here"}})[0] in (200, 201)
    finally:
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
    # Killed without a chance to clean up: the kernel let the lock go, so the next owner starts.
    again = start(SOMA_DATA_DIR=server.data)
    try:
        status, memory = again.call("GET", "/v1/memories/1")
        assert status == 200 and memory["payload"]["text"] == "still here"
    finally:
        again.stop()


def test_doctor_reports_a_served_directory_as_in_use_not_as_a_failure():
    server = start()
    try:
        run, _ = run_second(["doctor", "--json", "--timeout", "8"], server.data)
        checks = {check["check"].split(" ")[0]: check for check in json.loads(run.stdout)}
        assert checks["storage"]["ok"] and "in use" in checks["storage"]["detail"], checks["storage"]
        assert str(server.process.pid) in checks["storage"]["detail"]
        assert run.returncode == 0, run.stdout + run.stderr
    finally:
        server.stop()


SERVERS = os.environ.get("SOMA_TEST_SERVERS_SCRIPT")
KAFKA = os.environ.get("SOMA_TEST_KAFKA_BOOTSTRAP")


def pending_events(data):
    with sqlite3.connect(os.path.join(data, "soma.sqlite")) as database:
        return database.execute("SELECT count(*) FROM outbox").fetchone()[0]


@pytest.mark.skipif(not (SERVERS and KAFKA) and not os.environ.get("CI"), reason="needs scripts/servers.sh's Kafka mock")
def test_sigterm_while_the_brokers_are_down_stops_cleanly_and_keeps_the_events():
    topic = f"edges.{uuid.uuid4().hex[:8]}"
    kafka = {"KAFKA_BOOTSTRAP_SERVERS": KAFKA, "KAFKA_MEMORY_EVENTS_TOPIC": topic, "KAFKA_DELIVERY_TIMEOUT_MS": "120000",
             "SOMA_SHUTDOWN_GRACE_SECONDS": "3"}
    server = start(**kafka)
    subprocess.run([SERVERS, "pause", "kafka"], check=True, capture_output=True)
    try:
        for index in range(5):
            assert server.call("POST", "/v1/memories", {"coord": f"{index}", "payload": {"text": f"during the outage {index}"}})[0] in (200, 201)
        time.sleep(1.5)  # the relay is now waiting on a publish nobody will confirm
        stopping = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(timeout=30)
        took = time.monotonic() - stopping
        server.log.seek(0)
        log = server.log.read().decode(errors="replace")
        assert took < 3 + 5 + 2, f"stopped after {took:.1f} s"
        assert code == 0 and "Fatal error" not in log, (code, log[-2000:])
        assert pending_events(server.data) >= 5, "the acknowledged writes' events stay in the outbox"
    finally:
        subprocess.run([SERVERS, "resume", "kafka"], check=True, capture_output=True)
    # The brokers are back: the next start publishes what the outbox kept.
    again = start(SOMA_DATA_DIR=server.data, **kafka)
    try:
        deadline = time.monotonic() + 30
        while pending_events(server.data) > 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pending_events(server.data) == 0, "the outbox was relayed after the restart"
    finally:
        again.stop()


def cluster_port():
    """A free port whose cluster bus port (the port + 10000) is a valid, free port too."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 10000))
                return port
            except OSError:
                continue


def test_a_redis_cluster_is_refused_at_start_by_name():
    """Three masters of a real Redis Cluster: every cache call would meet MOVED or CROSSSLOT, so
    the service refuses to start with it rather than run with a cache that never works."""
    work = tempfile.mkdtemp(prefix="soma-redis-cluster-")
    ports = [cluster_port() for _ in range(3)]
    nodes = [subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                               "--cluster-config-file", f"{work}/nodes-{port}.conf", "--dir", work, "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for port in ports]
    try:
        for port in ports:
            for _ in range(100):
                if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() == "PONG":
                    break
                time.sleep(0.05)
        subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{port}" for port in ports], "--cluster-replicas", "0",
                        "--cluster-yes"], check=True, capture_output=True, timeout=60)
        run, took = run_second(["serve"], tempfile.mkdtemp(prefix="soma-cluster-data-"), REDIS_URL=f"redis://127.0.0.1:{ports[0]}/0")
        output = run.stdout + run.stderr
        assert run.returncode != 0 and took < 10, (run.returncode, took, output[-2000:])
        assert "Redis Cluster" in output and "REDIS_URL" in output and f"127.0.0.1:{ports[0]}" in output, output[-2000:]
    finally:
        for node in nodes:
            node.terminate()
            node.wait(timeout=10)
