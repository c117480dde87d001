"""The example app against a real PostgreSQL: health, the page, the metrics."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from types import ModuleType

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.app.conftest import get
from tests.app.pg import PASSWORD, USER, PgCluster

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


def test_the_whole_rds_secret_as_json_is_accepted(pg: PgCluster, serve: Serve) -> None:
    env = pg.env()
    del env["DB_USERNAME"], env["DB_PASSWORD"]
    env["DB_SECRET"] = json.dumps({"username": USER, "password": PASSWORD})
    assert get(serve(env) + "/healthz").status == 200


def test_a_wrong_password_is_unhealthy_and_not_shown(pg: PgCluster, serve: Serve) -> None:
    url = serve(pg.env(DB_PASSWORD="wrong-password"))
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
    assert (reply.status, reply.body) == (503, "database does not answer: not configured (set DB_HOST)\n")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DB_PORT": "five"}, "DB_PORT must be a whole number between 1 and 65535, not 'five'"),
        ({"DB_PORT": "70000"}, "DB_PORT must be a whole number between 1 and 65535, not '70000'"),
        ({"DB_SECRET": "{not json"}, 'DB_SECRET is not JSON; expected {"username": ..., "password": ...}'),
        ({"DB_SECRET": "[1]"}, "DB_SECRET must be a JSON object with the keys username and password"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(
    app_module: ModuleType, env: dict[str, str], message: str
) -> None:
    with pytest.raises(app_module.SettingsError) as caught:
        app_module.Settings.from_env(env)
    assert str(caught.value) == message


def test_explicit_username_and_password_win_over_the_secret(app_module: ModuleType) -> None:
    settings = app_module.Settings.from_env(
        {"DB_SECRET": '{"username": "a", "password": "b"}', "DB_USERNAME": "c", "DB_PASSWORD": "d"}
    )
    assert (settings.user, settings.password) == ("c", "d")
    assert "d" not in repr(settings).replace("dbname", "")


def test_libpq_names_are_read_where_the_db_names_are_unset(pg: PgCluster, serve: Serve) -> None:
    """The task may carry PGHOST, PGPORT, ... (libpq's names) instead of DB_HOST, DB_PORT, ..."""
    env = {
        "PGHOST": "127.0.0.1",
        "PGPORT": str(pg.port),
        "PGDATABASE": "postgres",
        "PGUSER": USER,
        "PGPASSWORD": PASSWORD,
    }
    url = serve({**env, "PRENV_HEAD_SHA": "0123456789abcdef0123", "PRENV_PR": "5"})
    assert get(url + "/healthz").status == 200  # over TCP this time
    assert "<tr><th>Version</th><td>0123456789ab</td></tr>" in get(url + "/").body
