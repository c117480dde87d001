"""The local replica run for real: docker-compose.yml's services started natively (tests/compose/replica.py)
with real PostgreSQL and a real Prometheus scraping the app, as `docker compose up` would wire them."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.app.conftest import get
from tests.app.pg import LOOPBACK, free_port
from tests.compose import spec
from tests.compose.replica import Replica, ReplicaError, missing_tools, seconds
from tests.compose.spec import ENV_EXAMPLE
from tests.helpers import REPO_ROOT

pytestmark = pytest.mark.slow

PROMETHEUS_CONFIG = "examples/prometheus/prometheus.yml"
APP_PORT, PROMETHEUS_PORT = 8080, 9090  # the container ports docker-compose.yml publishes
# Prometheus scrapes every scrape_interval; a scrape after an event is due within one more.
SCRAPE_INTERVAL = seconds(spec.load(REPO_ROOT / PROMETHEUS_CONFIG)["global"]["scrape_interval"], 60.0)
WITHIN = 2 * SCRAPE_INTERVAL + 5


def _variables() -> dict[str, str]:
    """The example .env, on free ports (several replicas and other tests may run at once)."""
    return {
        **spec.env_file(ENV_EXAMPLE),
        "PRENV_PR": "19",
        "APP_PORT": str(free_port()),
        "DB_LOCAL_PORT": str(free_port()),
        "PROMETHEUS_PORT": str(free_port()),
    }


def _replica(work: Path, overlay: dict[str, str] | None = None) -> Replica:
    missing = missing_tools()
    if missing:
        pytest.skip(f"not on this machine: {missing} (.ci/run installs Prometheus)")
    return Replica(_variables(), work=work, overlay=overlay)


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replica]:
    with _replica(tmp_path_factory.mktemp("replica")) as running:
        yield running


class Prometheus:
    """Prometheus's HTTP API (v1), as a person at http://localhost:9090 would ask it."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _get(self, path: str, **query: str) -> Any:
        reply = get(f"{self.url}{path}?{urllib.parse.urlencode(query)}")
        assert reply.status == 200, reply.body
        document = json.loads(reply.body)
        assert document["status"] == "success", document
        return document["data"]

    def value(self, promql: str) -> float | None:
        """The single sample of an instant query, None when it has none."""
        data = self._get("/api/v1/query", query=promql)
        assert data["resultType"] == "vector"
        assert len(data["result"]) <= 1, data["result"]
        return float(data["result"][0]["value"][1]) if data["result"] else None

    def wait_for(self, promql: str, wanted: Callable[[float | None], bool], what: str) -> float | None:
        deadline = time.monotonic() + WITHIN
        while not wanted(value := self.value(promql)):
            assert time.monotonic() < deadline, f"{promql} is {value} after {WITHIN:.0f}s; wanted {what}"
            time.sleep(0.5)
        return value

    def target(self, job: str) -> dict[str, Any] | None:
        """The job's one target; None until service discovery has synced (a few seconds after start)."""
        targets = [t for t in self._get("/api/v1/targets")["activeTargets"] if t["labels"]["job"] == job]
        assert len(targets) <= 1, f"Prometheus has {len(targets)} targets of job {job}"
        return targets[0] if targets else None


def assert_scraped(prometheus: Prometheus, job: str) -> None:
    """The job's target was scraped, is up, and `up` says 1: the scrape test."""
    deadline = time.monotonic() + SCRAPE_INTERVAL + 5
    while (target := prometheus.target(job)) is None or target["health"] == "unknown":
        assert time.monotonic() < deadline, f"Prometheus has not scraped {job} within its scrape interval"
        time.sleep(0.5)
    assert target["health"] == "up", f"Prometheus scrapes {target['scrapeUrl']}: {target['lastError']}"
    assert prometheus.value(f'up{{job="{job}"}}') == 1


@pytest.fixture(scope="module")
def prometheus(replica: Replica) -> Prometheus:
    return Prometheus(replica.url("prometheus", PROMETHEUS_PORT))


def test_services_start_in_the_compose_order(replica: Replica) -> None:
    assert replica.events == [
        "db started",
        "db healthy",
        "provision started",
        "provision exited 0",
        "migrate started",
        "migrate exited 0",
        "seed started",
        "seed exited 0",
        "app started",
        "app healthy",
        "prometheus started",
        "prometheus healthy",
    ]
    assert "app migrate: 2 applied; migrated to 0002 (2 migrations)" in replica.log("migrate").read_text()


def test_the_app_gets_exactly_the_compose_environment_mapped_to_loopback(replica: Replica) -> None:
    db_port, app_port = replica.host_port("db", 5432), replica.host_port("app", APP_PORT)
    env = replica.environment("app")
    given = replica.services["app"]["environment"]
    assert env == {
        "PATH": env["PATH"],
        "PYTHONDONTWRITEBYTECODE": "1",  # the image's ENV
        "PYTHONUNBUFFERED": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_CACHE_DIR": "1",
        **given,
        "PGHOST": LOOPBACK,
        "PGPORT": str(db_port),
        "DATABASE_URL": f"postgresql://app@{LOOPBACK}:{db_port}/app",
        "PORT": str(app_port),
        "LISTEN_HOST": LOOPBACK,
    }
    assert given["DATABASE_URL"] == "postgresql://app@db:5432/app"
    assert env["PGPASSWORD"] == spec.env_file(ENV_EXAMPLE)["APP_DB_PASSWORD"]


def test_the_app_runs_on_the_provisioned_migrated_and_seeded_pr_database(replica: Replica) -> None:
    page = get(replica.url("app", APP_PORT) + "/")
    assert "<h1>PR #19</h1>" in page.body
    assert "<tr><th>Schema</th><td>migrated to 0002 (2 migrations)</td></tr>" in page.body
    db = replica._running["db"].cluster
    assert db is not None
    owner = "SELECT datdba::regrole::text FROM pg_database WHERE datname = 'app'"
    with db.connect() as conn:  # as the server's admin
        assert conn.execute(owner).fetchall() == [("app",)]
    with db.connect("app", user="app", password=spec.env_file(ENV_EXAMPLE)["APP_DB_PASSWORD"]) as conn:
        assert conn.execute("SELECT slug FROM notes").fetchall() == [("welcome",)]


def test_prometheus_scrapes_the_app(replica: Replica, prometheus: Prometheus) -> None:
    assert_scraped(prometheus, "app")
    target = prometheus.target("app")
    assert target is not None
    assert target["scrapeUrl"] == replica.url("app", APP_PORT) + "/metrics"  # app:8080, mapped


def test_the_request_counter_grows_in_prometheus(replica: Replica, prometheus: Prometheus) -> None:
    assert_scraped(prometheus, "app")
    counter = 'sum(app_http_requests_total{job="app", method="GET", path="/", status="200"})'
    before = prometheus.value(counter) or 0.0
    for _ in range(3):
        assert get(replica.url("app", APP_PORT) + "/").status == 200
    after = prometheus.wait_for(counter, lambda value: (value or 0) >= before + 3, f">= {before + 3}")
    assert after == before + 3


def test_healthz_turns_503_when_the_database_stops_and_prometheus_sees_it(
    replica: Replica, prometheus: Prometheus
) -> None:
    app = replica.url("app", APP_PORT)
    gauge = 'app_database_up{job="app"}'
    assert get(app + "/healthz").status == 200
    prometheus.wait_for(gauge, lambda value: value == 1, "1")
    replica.stop("db")
    try:
        down = get(app + "/healthz")
        assert down.status == 503
        assert down.body.startswith("database does not answer: ")
        prometheus.wait_for(gauge, lambda value: value == 0, "0")
    finally:
        replica.start("db")
    replica.wait_healthy("db")
    assert get(app + "/healthz").status == 200


def test_a_wrong_scrape_path_fails_the_scrape_test(tmp_path: Path) -> None:
    """The scrape test above is not vacuous: Prometheus configured with a wrong path fails it."""
    config = (REPO_ROOT / PROMETHEUS_CONFIG).read_text(encoding="utf-8")
    assert "metrics_path: /metrics\n" in config
    planted = config.replace("metrics_path: /metrics\n", "metrics_path: /metricz\n")
    with _replica(tmp_path, overlay={PROMETHEUS_CONFIG: planted}) as running:
        prometheus = Prometheus(running.url("prometheus", PROMETHEUS_PORT))
        with pytest.raises(
            AssertionError, match=r"Prometheus scrapes http://127\.0\.0\.1:\d+/metricz: .*404"
        ):
            assert_scraped(prometheus, "app")
        assert prometheus.value('up{job="app"}') == 0


def test_a_failing_step_stops_the_start_with_its_log(tmp_path: Path) -> None:
    """A migration that fails keeps the app from starting, as service_completed_successfully does."""
    variables = _variables()
    variables["APP_DB_PASSWORD"] = ""  # compose itself refuses an empty required variable
    with pytest.raises(KeyError, match=r"APP_DB_PASSWORD: set APP_DB_PASSWORD in \.env"):
        Replica(variables, work=tmp_path)
    if missing_tools():
        pytest.skip(f"not on this machine: {missing_tools()}")
    empty = tmp_path / "no-migrations"
    empty.mkdir()
    broken = Replica(_variables(), work=tmp_path / "work")
    broken.services["migrate"]["command"] = ["python", "app.py", "migrate", "--migrations", str(empty)]
    with pytest.raises(ReplicaError, match=r"migrate exited 1:\napp migrate: no migrations in "), broken:
        pass
    assert broken.events == [
        "db started",
        "db healthy",
        "provision started",
        "provision exited 0",
        "migrate started",
        "migrate exited 1",
        "db stopped",
    ]
