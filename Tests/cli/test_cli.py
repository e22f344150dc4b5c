"""The `soma` command for people: tables on a terminal (a pseudo-terminal here), the service's JSON
byte for byte to a pipe, progress on long work, and `soma doctor` against the test stack and
against each broken part. The stack's tests need scripts/servers.sh (SOMA_TEST_SERVERS_SCRIPT);
in CI (CI=true) a missing server fails instead of skipping.

    eval "$(scripts/servers.sh fresh)"; python3 -m pytest -q Tests/cli
"""
import json
import os
import pathlib
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import urllib.request
import uuid

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "compat"))
from test_original_api import BINARY, TOKEN, start  # noqa: E402

SERVERS = os.environ.get("SOMA_TEST_SERVERS_SCRIPT")
needs_stack = pytest.mark.skipif(not SERVERS and not os.environ.get("CI"), reason="needs scripts/servers.sh (SOMA_TEST_SERVERS_SCRIPT unset)")


def clean_environment(**extra):
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("SOMA_", "POSTGRES_", "REDIS_", "QDRANT_", "KAFKA_", "NO_COLOR"))}
    environment.update(extra)
    return environment


def on_terminal(arguments, environment, columns=120):
    """Runs soma with standard output (and error) on a pseudo-terminal; everything it wrote."""
    leader, follower = pty.openpty()
    import fcntl, struct, termios
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen([BINARY, *arguments], stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, env=environment)
    os.close(follower)
    output = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=30)
    os.close(leader)
    return process.returncode, output.decode(errors="replace")


@pytest.fixture(scope="module")
def server():
    started = start()
    for index, text in enumerate(["the cat sleeps on the warm windowsill", "quarterly budget review with finance", "the dog chases the cat"]):
        assert started.call("POST", "/v1/memories", {"coord": f"{index},1", "payload": {"text": text}})[0] == 201
    yield started
    started.stop()


def client_environment(server, **extra):
    return clean_environment(SOMA_URL=f"http://127.0.0.1:{server.port}", SOMA_API_TOKEN=TOKEN, **extra)


def test_recall_prints_a_table_on_a_terminal_and_the_services_json_to_a_pipe(server):
    status, screen = on_terminal(["recall", "--query", "cat", "--top-k", "2"], client_environment(server))
    assert status == 0, screen
    lines = [line for line in screen.replace("\r", "").splitlines() if line.strip()]
    assert "RANK" in lines[0] and "SCORE" in lines[0] and "TEXT" in lines[0]
    assert lines[1].split()[0] == "1" and "cat" in lines[1] and len(lines) == 3
    assert "\x1b[1m" in screen, "the header in bold on a terminal"
    status, plain = on_terminal(["recall", "--query", "cat", "--top-k", "2"], client_environment(server, NO_COLOR="1"))
    assert "\x1b[" not in plain, "NO_COLOR: no escape codes"
    piped = subprocess.run([BINARY, "recall", "--query", "cat", "--top-k", "2"], env=client_environment(server), capture_output=True, check=True).stdout
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}/v1/memories/search", method="POST",
                                     data=json.dumps({"query": "cat", "top_k": 2, "mode": "vector"}).encode(),
                                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    direct = urllib.request.urlopen(request).read()
    assert piped == direct + b"\n", "byte for byte the service's answer"
    status, forced = on_terminal(["recall", "--query", "cat", "--top-k", "2", "--json"], client_environment(server))
    assert json.loads(forced)["results"], "--json on a terminal"


def test_stats_and_store_read_well_on_a_terminal(server):
    status, screen = on_terminal(["stats"], client_environment(server))
    assert status == 0 and "total" in screen and "episodic" in screen and "{" not in screen
    status, screen = on_terminal(["store", "--coord", "9,9", "--payload", '{"text":"hello"}'], client_environment(server))
    assert status == 0 and "\x1b[32mstored\x1b[0m 9,9 in api_ns: version 1, episodic" in screen


def test_import_shows_progress_and_export_streams_with_a_summary(server):
    lines = [json.dumps({"coordinate": [100 + index, 7], "payload": {"text": f"imported memory {index}"}}) for index in range(1200)]
    source = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False)
    source.write("\n".join(lines) + "\n")
    source.close()
    status, screen = on_terminal(["import", source.name, "--batch-size", "100"], client_environment(server))
    assert status == 0, screen
    assert "imported: " in screen and "of 1,200" in screen and "%" in screen, "live progress with the total"
    assert "imported 1,200 memories and 0 links, 0 already held, 0 failed in" in screen
    bad = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False)
    bad.write("\n".join(lines[:150] + ["{not json"] + lines[150:160]) + "\n")
    bad.close()
    failed = subprocess.run([BINARY, "import", bad.name, "--batch-size", "100"], env=client_environment(server), capture_output=True, text=True)
    assert failed.returncode == 1 and f"{bad.name} line 151:" in failed.stderr and "stopped after 100 lines" in failed.stderr, failed.stderr
    exported = subprocess.run([BINARY, "export"], env=client_environment(server), capture_output=True, check=True)
    # A header, then the memories (no links here).
    assert len(exported.stdout.splitlines()) == 1 + 1200 + 4 and b"exported 1,205 lines" in exported.stderr


def test_completion_scripts():
    for shell in ("bash", "zsh", "fish"):
        script = subprocess.run([BINARY, "--generate-completion-script", shell], capture_output=True, text=True, check=True).stdout
        assert "doctor" in script and "recall" in script


# soma doctor ---------------------------------------------------------------------------------

DOCTOR_DATABASE = []


def doctor_database():
    """A database of the doctor's own: the shared test database holds records of other suites'
    models, and the service adopts the model its records were embedded with."""
    if not DOCTOR_DATABASE:
        DOCTOR_DATABASE.append(subprocess.run([SERVERS, "database", "soma_doctor"], check=True, capture_output=True, text=True).stdout.strip())
    return DOCTOR_DATABASE[0]


def stack_environment(**overrides):
    environment = clean_environment(
        POSTGRES_URL=doctor_database(), REDIS_URL=os.environ["SOMA_TEST_REDIS_URL"],
        QDRANT_URL=os.environ["SOMA_TEST_QDRANT_URL"], QDRANT_API_KEY=os.environ["SOMA_TEST_QDRANT_API_KEY"],
        QDRANT_COLLECTION=f"doctor_{uuid.uuid4().hex[:8]}", KAFKA_BOOTSTRAP_SERVERS=os.environ["SOMA_TEST_KAFKA_BOOTSTRAP"],
        SOMA_EMBEDDER="hash", SOMA_DATA_DIR=tempfile.mkdtemp(prefix="soma-doctor-"))
    environment.update(overrides)
    return environment


def doctor(environment, *arguments, user=None, binary=BINARY):
    command = [binary, "doctor", "--json", "--timeout", "8", *arguments]
    if user:
        command = ["runuser", "-u", user, "--", *command]
    run = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
    return run.returncode, {check["check"].split(" ")[0]: check for check in json.loads(run.stdout)}, run


@needs_stack
def test_doctor_passes_against_the_test_stack():
    assert SERVERS, "SOMA_TEST_SERVERS_SCRIPT is unset: run scripts/servers.sh fresh first"
    environment = stack_environment()
    subprocess.run([BINARY, "migrate"], env=environment, capture_output=True, check=True)
    status, checks, run = doctor(environment)
    assert status == 0, run.stdout + run.stderr
    assert set(checks) >= {"settings", "embedder", "storage", "cache", "event", "vector"}
    assert all(check["ok"] for check in checks.values())
    human = subprocess.run([BINARY, "doctor"], env=environment, capture_output=True, text=True)
    assert human.returncode == 0 and "checks passed" in human.stdout


@needs_stack
@pytest.mark.parametrize("broken, failing, fix", [
    ({"POSTGRES_URL": "postgres://postgres:x@127.0.0.1:1/none?sslmode=disable"}, "storage", "POSTGRES_URL"),
    ({"REDIS_URL": "redis://:wrong-password@" + os.environ.get("SOMA_TEST_REDIS_URL", "redis://:x@127.0.0.1:1/0").split("@")[1]}, "cache", "REDIS_PASSWORD"),
    ({"SOMA_EMBEDDER": "minilm", "SOMA_EMBEDDER_MODEL_DIR": "/nonexistent/model"}, "embedder", "install-model.sh"),
])
def test_doctor_names_each_broken_part_and_its_fix(broken, failing, fix):
    status, checks, run = doctor(stack_environment(**broken))
    assert status != 0, run.stdout
    assert not checks[failing]["ok"] and fix in checks[failing]["fix"], checks[failing]


def test_doctor_names_an_unknown_storage_and_the_known_ones():
    status, checks, run = doctor(clean_environment(SOMA_STORAGE="mongo", SOMA_EMBEDDER="hash", SOMA_DATA_DIR=tempfile.mkdtemp()))
    assert status != 0, run.stdout
    settings = checks["settings"]
    assert not settings["ok"] and "'mongo'" in settings["detail"] and "SOMA_STORAGE" in settings["detail"], settings
    assert all(name in settings["fix"] for name in ("sqlite", "postgres", "inprocess")), settings
    # Only the settings were wrong: no backend's hint (a data file's permissions) is offered for them.
    assert list(checks) == ["settings"] and "permission" not in run.stdout, run.stdout


@needs_stack
def test_doctor_finds_a_qdrant_collection_of_another_dimension():
    collection = f"doctor_dim_{uuid.uuid4().hex[:8]}"
    request = urllib.request.Request(f"{os.environ['SOMA_TEST_QDRANT_URL']}/collections/{collection}", method="PUT",
                                     data=json.dumps({"vectors": {"size": 8, "distance": "Cosine"}}).encode(),
                                     headers={"api-key": os.environ["SOMA_TEST_QDRANT_API_KEY"], "Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
    environment = stack_environment(QDRANT_COLLECTION=collection)
    subprocess.run([BINARY, "migrate"], env=environment, capture_output=True, check=True)
    status, checks, run = doctor(environment)
    assert status != 0 and not checks["vector"]["ok"], run.stdout
    assert "dimension" in checks["vector"]["detail"] and "reindex" in checks["vector"]["fix"], checks["vector"]


def test_doctor_finds_an_unwritable_data_directory_as_an_unprivileged_user():
    if os.geteuid() != 0:
        pytest.skip("runs `runuser nobody`, which needs root (CI is root)")
    work = tempfile.mkdtemp(prefix="soma-nobody-")
    os.chmod(work, 0o755)
    binary = os.path.join(work, "soma")  # a copy nobody can reach: the build folder may not be
    shutil.copy(BINARY, binary)
    os.chmod(binary, 0o755)
    locked = os.path.join(work, "data")
    os.mkdir(locked, 0o755)  # root's, not writable by nobody
    status, checks, run = doctor(clean_environment(SOMA_EMBEDDER="hash", SOMA_DATA_DIR=locked), user="nobody", binary=binary)
    assert status != 0, run.stdout + run.stderr
    assert not checks["data"]["ok"] and "SOMA_DATA_DIR" in checks["data"]["fix"], checks["data"]


# Failures in words ---------------------------------------------------------------------------
# Each says what failed, the value involved and what to do; no Foundation or NIO dump reaches a
# person unless --verbose asks for it.

DUMPS = ("NSURLErrorDomain", "NSCocoaErrorDomain", "errno:", "Cannot initialize", "Error Domain", "bind(descriptor")


def assert_plain(screen):
    assert not any(dump in screen for dump in DUMPS), screen


def closed_port():
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("arguments", [["stats"], ["recall", "--query", "cat"], ["export"]])
def test_an_unreachable_server_is_named_with_what_to_do(arguments):
    url = f"http://127.0.0.1:{closed_port()}"
    status, screen = on_terminal(arguments, clean_environment(SOMA_URL=url))
    assert status == 1, screen
    assert f"cannot reach the server at {url}" in screen and "connection refused" in screen, screen
    assert "soma serve" in screen and "SOMA_URL" in screen and "--url" in screen, screen
    assert_plain(screen)
    status, verbose = on_terminal([*arguments, "--verbose"], clean_environment(SOMA_URL=url))
    assert status == 1 and "underlying error:" in verbose, "--verbose keeps the underlying error"


def test_a_taken_port_names_the_port_and_the_setting():
    import socket
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, screen = on_terminal(["serve", "--port", str(port)],
                                     clean_environment(SOMA_EMBEDDER="hash", SOMA_DATA_DIR=tempfile.mkdtemp(prefix="soma-port-")))
    assert status == 1, screen
    assert f"cannot listen on 127.0.0.1:{port}: the port is already in use" in screen, screen
    assert "--port" in screen and "SOMA_PORT" in screen, screen
    assert_plain(screen)


def test_an_invalid_choice_lists_the_valid_ones(server):
    status, screen = on_terminal(["recall", "--query", "cat", "--mode", "fuzzy"], client_environment(server))
    assert status != 0 and "'fuzzy'" in screen and all(f"'{mode}'" in screen for mode in ("vector", "keyword", "hybrid")), screen
    assert_plain(screen)
    status, screen = on_terminal(["store", "--coord", "1,1", "--payload", "{}", "--type", "weird"], client_environment(server))
    assert status != 0 and "'weird'" in screen and "'episodic'" in screen and "'semantic'" in screen, screen
    # The service says the same to any client: the field, the value and the choices.
    status, answer = server.call("POST", "/v1/memories/search", {"query": "cat", "mode": "fuzzy"})
    assert status == 422 and answer["detail"] == "'mode': 'fuzzy' is not one of: vector, keyword, hybrid", answer
    status, answer = server.call("POST", "/v1/memories/search", {"query": "cat", "mode": "hybrid", "fusion": "average"})
    assert status == 422 and "'average' is not one of: weighted, rrf" in answer["detail"], answer


def test_an_answer_of_the_service_is_shown_as_its_code_and_sentence(server):
    status, screen = on_terminal(["recall", "--query", "cat", "--top-k", "0"], client_environment(server))
    assert status == 1 and "server answered 4" in screen and '{"' not in screen, screen


def test_a_data_directory_under_a_regular_file_names_the_file():
    blocker = tempfile.NamedTemporaryFile(prefix="soma-blocker-", delete=False).name
    environment = clean_environment(SOMA_EMBEDDER="hash", SOMA_DATA_DIR=os.path.join(blocker, "data"))
    status, screen = on_terminal(["serve", "--port", str(closed_port())], environment)
    assert status == 1 and f"{blocker} is a file, not a directory" in screen and "SOMA_DATA_DIR" not in DUMPS, screen
    assert_plain(screen)
    status, screen = on_terminal(["doctor"], environment)
    assert status == 1 and f"{blocker} is a file, not a directory" in screen and "SOMA_DATA_DIR" in screen, screen
    assert_plain(screen)


@pytest.mark.parametrize("problem, expected", [("missing", "no such file"), ("directory", "it is a directory, not a file")])
def test_files_a_command_reads_are_named_with_their_problem(problem, expected):
    path = tempfile.mkdtemp() if problem == "directory" else "/nonexistent/soma-backup.jsonl"
    status, screen = on_terminal(["import", path], clean_environment(SOMA_URL=f"http://127.0.0.1:{closed_port()}"))
    assert status == 1 and f"cannot read {path}: {expected}" in screen, screen
    status, screen = on_terminal(["serve", "--config", path], clean_environment(SOMA_EMBEDDER="hash"))
    assert status == 1 and f"cannot read configuration file {path}: {expected}" in screen, screen
    assert_plain(screen)


def test_a_configuration_file_that_does_not_parse_says_so():
    broken = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    broken.write('{"soma_port": ')
    broken.close()
    status, screen = on_terminal(["serve", "--config", broken.name], clean_environment(SOMA_EMBEDDER="hash"))
    assert status == 1 and f"configuration file {broken.name} is not valid JSON" in screen, screen
    assert_plain(screen)


def test_version_as_a_flag_and_as_a_command():
    for arguments in (["--version"], ["version"]):
        run = subprocess.run([BINARY, *arguments], capture_output=True, text=True)
        assert run.returncode == 0 and re.fullmatch(r"soma \d+\.\d+\.\d+\n", run.stdout), (arguments, run.stdout, run.stderr)
