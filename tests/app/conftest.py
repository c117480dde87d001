"""Fixtures of the example app's tests: the app module, a real PostgreSQL, the app served on a free port."""

from __future__ import annotations

import importlib.util
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from tests.app.pg import PgCluster, running_cluster
from tests.helpers import REPO_ROOT

APP_DIR = REPO_ROOT / "examples" / "app"


def _load_app() -> ModuleType:
    name = "prenv_example_app"
    if name in sys.modules:
        return sys.modules[name]
    # app.py imports its sibling dbschema.py, as `python app.py` finds it in the image's /app. Appended:
    # nothing installed is shadowed by a file of examples/app.
    if str(APP_DIR) not in sys.path:
        sys.path.append(str(APP_DIR))
    spec = importlib.util.spec_from_file_location(name, APP_DIR / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def app_module() -> ModuleType:
    return _load_app()


@pytest.fixture
def pg() -> Iterator[PgCluster]:
    """A PostgreSQL cluster of its own, started, in a temporary folder; removed afterwards."""
    with running_cluster() as cluster:
        yield cluster


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    headers: Mapping[str, str]


def get(url: str) -> Response:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310 - a local test server
            return Response(reply.status, reply.read().decode(), dict(reply.headers))
    except urllib.error.HTTPError as error:
        with error:
            return Response(error.code, error.read().decode(), dict(error.headers))


@pytest.fixture
def serve(app_module: ModuleType) -> Iterator[Callable[[Mapping[str, str]], str]]:
    """`serve(env)` -> the base URL of the real app server, configured from `env`, on a free port."""
    servers: list[tuple[object, threading.Thread]] = []

    def start(env: Mapping[str, str]) -> str:
        app = app_module.App(app_module.Settings.from_env(env))
        server = app_module.serve(app, "127.0.0.1", 0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in servers:
        server.shutdown()  # type: ignore[attr-defined]
        server.server_close()  # type: ignore[attr-defined]
        thread.join(timeout=10)


def app_dir() -> Path:
    return APP_DIR
