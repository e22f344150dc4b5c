"""Self-test of the CI script: it must fail when it cannot test, not pass. Runs last in
scripts/test.sh (it stops the shared servers, as the script's own start does), after the build.

    python3 -m pytest -q Tests/ci
"""
import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]


def bash(command, **environment):
    return subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, **environment))


def test_a_server_that_does_not_start_fails_the_run_and_is_named():
    run = bash("scripts/test.sh", SOMA_TEST_FAIL_START="redis")
    assert run.returncode != 0
    assert "redis did not start" in run.stderr, run.stderr[-2000:]
    assert "scripts/servers.sh fresh failed" in run.stderr, run.stderr[-2000:]


def test_a_filter_that_matches_nothing_fails_its_step():
    run = bash('source scripts/lib/test_steps.sh; swift_tests 1 "^$" 300 --skip-build --filter NoSuiteIsCalledThis')
    assert run.returncode != 0
    assert "ran 0 tests, expected at least 1" in run.stderr, run.stderr[-2000:]


def test_a_skip_outside_the_allow_list_fails_its_step():
    # Without SOMA_TEST_FAULTS the fault tests skip, printing their reason.
    environment = {key: value for key, value in os.environ.items() if key != "SOMA_TEST_FAULTS"}
    run = subprocess.run(["bash", "-c", 'source scripts/lib/test_steps.sh; swift_tests 1 "^$" 300 --skip-build --filter FaultTests'],
                         cwd=ROOT, capture_output=True, text=True, timeout=900, env=environment)
    assert run.returncode != 0
    assert "skipped outside the allow-list" in run.stderr and "SOMA_TEST_FAULTS" in run.stderr, run.stderr[-2000:]
