"""The example app against a real PostgreSQL: health, the page, the metrics."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import ModuleType

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.app.conftest import get
from tests.app.pg import PASSWORD, PgCluster

Serve = Callable[[Mapping[str, str]], str]


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, keyed by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_healthz_is_200_while_the_database_is_up_and_503_once_it_is_stopped(
    pg: PgCluster, serve: Serve
) -> None:
    url = serve(pg.env())
    up = get(url + "/healthz")
    assert (up.status, up.body) == (200, "ok\n")

    pg.stop()
    down = get(url + "/healthz")
    assert down.status == 503
    assert down.body.startswith("database does not answer: ")
    assert PASSWORD not in down.body

    pg.start()
    assert get(url + "/healthz").status == 200


def test_the_page_shows_the_pr_the_version_and_the_database(pg: PgCluster, serve: Serve) -> None:
    url = serve(pg.env(PRENV_PR="42", APP_VERSION="1a2b3c4"))
    page = get(url + "/")
    assert page.status == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>PR #42</h1>" in page.body
    assert "<tr><th>Version</th><td>1a2b3c4</td></tr>" in page.body
    assert re.search(r"<tr><th>Database</th><td>answers: PostgreSQL \d+\.\d+", page.body)

    pg.stop()
    assert "<tr><th>Database</th><td>does not answer: " in get(url + "/").body


def test_database_url_without_a_password_plus_pgpassword_is_enough(pg: PgCluster, serve: Serve) -> None:
    """The contract's shape on AWS: DATABASE_URL has no password, ECS fills PGPASSWORD from the secret."""
    env = {"DATABASE_URL": pg.env()["DATABASE_URL"], "PGPASSWORD": PASSWORD}
    assert "@" in env["DATABASE_URL"]
    assert PASSWORD not in env["DATABASE_URL"]
    assert get(serve(env) + "/healthz").status == 200


def test_database_url_wins_over_the_pg_variables_as_in_libpq(pg: PgCluster, serve: Serve) -> None:
    env = pg.env(PGHOST="192.0.2.1", PGPORT="1", PGDATABASE="nowhere", PGUSER="nobody")
    assert get(serve(env) + "/healthz").status == 200


def test_a_wrong_password_is_unhealthy_and_not_shown(pg: PgCluster, serve: Serve) -> None:
    url = serve(pg.env(PGPASSWORD="wrong-password"))
    reply = get(url + "/healthz")
    assert reply.status == 503
    assert "password authentication failed" in reply.body
    assert "wrong-password" not in reply.body


def test_metrics_parse_as_prometheus_text_and_count_the_requests(pg: PgCluster, serve: Serve) -> None:
    url = serve(pg.env())
    for _ in range(3):
        assert get(url + "/healthz").status == 200
    assert get(url + "/").status == 200
    assert get(url + "/nope").status == 404
    pg.stop()
    assert get(url + "/healthz").status == 503

    metrics = get(url + "/metrics")
    assert metrics.status == 200
    assert metrics.headers["Content-Type"].startswith("text/plain; version=")
    samples = _samples(metrics.body)

    def requests(path: str, status: str) -> float:
        key = ("app_http_requests_total", (("method", "GET"), ("path", path), ("status", status)))
        return samples.get(key, 0.0)

    assert requests("/healthz", "200") == 3
    assert requests("/healthz", "503") == 1
    assert requests("/", "200") == 1
    assert requests("other", "404") == 1  # unknown paths share one label: bounded cardinality
    count = ("app_http_request_duration_seconds_count", (("method", "GET"), ("path", "/healthz")))
    assert samples[count] == 4
    infinity = (
        "app_http_request_duration_seconds_bucket",
        (("le", "+Inf"), ("method", "GET"), ("path", "/healthz")),
    )
    assert samples[infinity] == 4
    assert samples[("app_database_up", ())] == 0

    again = _samples(get(url + "/metrics").body)
    assert (
        again[("app_http_requests_total", (("method", "GET"), ("path", "/metrics"), ("status", "200")))] == 1
    )


def test_other_methods_are_refused(app_module: ModuleType, serve: Serve) -> None:
    import urllib.error
    import urllib.request

    url = serve({})
    request = urllib.request.Request(url + "/healthz", method="POST", data=b"")  # noqa: S310 - local server
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310 - a local test server
    with caught.value as error:
        assert error.code == 405
        assert error.headers["Allow"] == "GET, HEAD"


def test_without_a_database_the_app_serves_but_is_unhealthy(serve: Serve) -> None:
    url = serve({"PRENV_PR": "7"})
    assert get(url + "/").status == 200
    reply = get(url + "/healthz")
    assert (reply.status, reply.body) == (
        503,
        "database does not answer: not configured (set PGHOST or DATABASE_URL)\n",
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PGPORT": "five"}, "PGPORT must be a whole number between 1 and 65535, not 'five'"),
        ({"PGPORT": "70000"}, "PGPORT must be a whole number between 1 and 65535, not '70000'"),
        (
            {"DATABASE_URL": "mysql://app@db/app"},
            "DATABASE_URL must be a URL postgresql://USER@HOST:PORT/DATABASE",
        ),
        (
            {"DATABASE_URL": "postgresql://app:pw@db:5432/app?nope=1"},
            "DATABASE_URL is not a valid URL postgresql://USER@HOST:PORT/DATABASE",
        ),
        (
            {"DATABASE_URL": "postgresql://app@db:http/app"},
            "DATABASE_URL: the port must be a whole number between 1 and 65535",
        ),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(
    app_module: ModuleType, env: dict[str, str], message: str
) -> None:
    with pytest.raises(app_module.SettingsError) as caught:
        app_module.Settings.from_env(env)
    assert str(caught.value) == message
    assert "pw" not in str(caught.value)


def test_the_settings_never_show_the_password(app_module: ModuleType) -> None:
    settings = app_module.Settings.from_env(
        {"DATABASE_URL": "postgresql://u:from-url@h:6543/d", "PGPASSWORD": "from-env", "PGSSLMODE": "require"}
    )
    assert (settings.host, settings.port, settings.dbname, settings.user) == ("h", 6543, "d", "u")
    assert (settings.password, settings.sslmode) == ("from-url", "require")
    assert "from-url" not in repr(settings)
    assert app_module.Settings.from_env({"PGPASSWORD": "from-env"}).password == "from-env"


def test_the_page_shows_the_schema_once_migrated(pg: PgCluster, serve: Serve, app_module: ModuleType) -> None:
    url = serve(pg.env())
    assert "<tr><th>Schema</th><td>not migrated</td></tr>" in get(url + "/").body
    assert app_module.run_step("migrate", app_module.Settings.from_env(pg.env())) == 0
    assert "<tr><th>Schema</th><td>migrated to 0002 (2 migrations)</td></tr>" in get(url + "/").body


def test_unix_socket_hosts_work_too(pg: PgCluster, serve: Serve) -> None:
    """PGHOST may name a Unix socket directory (libpq's rule), e.g. a sidecar's socket."""
    env = pg.env(PRENV_HEAD_SHA="0123456789abcdef0123", PRENV_PR="5")
    del env["DATABASE_URL"]
    env["PGHOST"] = str(pg.sockets)
    url = serve(env)
    assert get(url + "/healthz").status == 200
    assert "<tr><th>Version</th><td>0123456789ab</td></tr>" in get(url + "/").body
