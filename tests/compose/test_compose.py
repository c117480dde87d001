"""docker-compose.yml: valid Compose, the same PostgreSQL major as RDS, Prometheus scraping the app."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.helpers import REPO_ROOT

HERE = Path(__file__).resolve().parent
COMPOSE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
PREVIEW = REPO_ROOT / "terraform" / "preview"
APP_DIR = REPO_ROOT / "examples" / "app"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is a literal $.
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def _interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable interpolation, enough for this file (and strict about unset required ones)."""
    if isinstance(value, dict):
        return {key: _interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2) or "", match.group(3) or ""
        current = env.get(name)
        unset = current is None or (operator.startswith(":") and current == "")
        if operator.endswith("?") and unset:
            raise KeyError(f"{name}: {argument}")
        if operator.endswith("-") and unset:
            return argument
        return current or ""

    return _VARIABLE.sub(replace, value)


def _variables(text: str) -> dict[str, bool]:
    """Variable name -> whether the compose file gives it a default everywhere it is used."""
    found: dict[str, bool] = {}
    for match in _VARIABLE.finditer(text):
        name = match.group(1) or match.group(4)
        if name:
            has_default = (match.group(2) or "").endswith("-")
            found[name] = found.get(name, True) and has_default
    return found


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = _load(COMPOSE)
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((HERE / "compose-spec.json").read_text(encoding="utf-8"))
    return document


def _errors(schema: dict[str, Any], document: Any) -> list[str]:
    """Every error, with those inside anyOf/oneOf alternatives, as 'path: message'."""
    validator = jsonschema.Draft202012Validator(schema)
    pending = list(validator.iter_errors(document))
    found = []
    while pending:
        error = pending.pop(0)
        found.append(f"{'/'.join(map(str, error.absolute_path))}: {error.message}")
        pending.extend(error.context or [])
    return found


def test_the_compose_file_validates_against_the_compose_specification(
    compose: dict[str, Any], schema: dict[str, Any]
) -> None:
    assert _errors(schema, compose) == []
    # And after interpolation with the example settings, as `docker compose` validates it.
    assert _errors(schema, _interpolate(compose, _env_file(ENV_EXAMPLE))) == []


def test_the_schema_check_catches_mistakes(compose: dict[str, Any], schema: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["app"]["depends_on"]["db"]["condition"] = "service_ready"
    broken["services"]["db"]["healthcheck"]["intervall"] = "5s"
    errors = _errors(schema, broken)
    assert any(
        e.startswith("services/app/depends_on/db/condition: 'service_ready' is not one of") for e in errors
    )
    assert "services/db/healthcheck: 'intervall' does not match any of the regexes: '^x-'" in errors


def _major_from_terraform() -> str:
    files = sorted(PREVIEW.glob("*.tf"))
    text = "\n".join(path.read_text(encoding="utf-8") for path in files)
    if not files or 'resource "aws_db_instance"' not in text:
        pytest.skip(
            f"no aws_db_instance in {PREVIEW.relative_to(REPO_ROOT)}/*.tf yet: nothing to compare with"
        )
    assert re.search(r'^\s*engine\s*=\s*"postgres"', text, re.MULTILINE), "the RDS engine is not postgres"
    literal = re.search(r'^\s*engine_version\s*=\s*"(\d+)(?:\.\d+)*"', text, re.MULTILINE)
    if literal:
        return literal.group(1)
    variable = re.search(r"^\s*engine_version\s*=\s*var\.(\w+)", text, re.MULTILINE)
    assert variable, "terraform/preview: cannot read the RDS engine_version (a literal or var.NAME)"
    block = re.search(rf'variable\s+"{variable.group(1)}"\s*{{(.*?)^}}', text, re.MULTILINE | re.DOTALL)
    default = re.search(r'default\s*=\s*"(\d+)', block.group(1)) if block else None
    assert default, f"terraform/preview: variable {variable.group(1)} has no default engine version"
    return default.group(1)


def test_postgres_major_equals_the_rds_engine_major(compose: dict[str, Any]) -> None:
    image = compose["services"]["db"]["image"]
    match = re.fullmatch(r"postgres:(\d+)\.\d+(-[a-z0-9.]+)?(@sha256:[0-9a-f]{64})?", image)
    assert match, f"the db image {image!r} is not postgres pinned to an exact major.minor version"
    assert match.group(1) == _major_from_terraform()


def test_every_image_is_pinned_to_an_exact_version(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service.get("image", "")
        if "build" in service:
            continue
        tag = image.rsplit(":", 1)[-1].split("@")[0]
        assert re.fullmatch(r"v?\d+\.\d+\.\d+.*|\d+\.\d+-.*", tag), f"{name}: {image} is not an exact version"


def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        for dependency, spec in service.get("depends_on", {}).items():
            assert spec["condition"] == "service_healthy", f"{name} -> {dependency}"
    assert set(services["app"]["depends_on"]) == {"db"}
    assert set(services["prometheus"]["depends_on"]) == {"app"}


def test_data_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used = {
        volume.split(":", 1)[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if not volume.startswith((".", "/"))
    }
    assert used == declared == {"db-data", "prometheus-data"}
    assert "db-data:/var/lib/postgresql/data" in compose["services"]["db"]["volumes"]


def test_the_app_gets_the_database_settings_the_ecs_task_gets(compose: dict[str, Any]) -> None:
    app = compose["services"]["app"]
    assert app["build"]["context"] == "./examples/app"
    assert set(app["environment"]) >= {
        "DB_HOST",
        "DB_PORT",
        "DB_NAME",
        "DB_USERNAME",
        "DB_PASSWORD",
        "PRENV_PR",
    }
    assert app["environment"]["DB_HOST"] == "db"
    db = compose["services"]["db"]["environment"]
    assert app["environment"]["DB_PASSWORD"].split(":")[0] == db["POSTGRES_PASSWORD"].split(":")[0]


def test_the_env_example_covers_every_variable_and_only_those(compose: dict[str, Any]) -> None:
    variables = _variables(COMPOSE.read_text(encoding="utf-8"))
    example = _env_file(ENV_EXAMPLE)
    required = {name for name, has_default in variables.items() if not has_default}
    assert required == {"POSTGRES_PASSWORD"}
    assert set(example) == set(variables)
    with pytest.raises(KeyError, match=re.escape("POSTGRES_PASSWORD: set POSTGRES_PASSWORD in .env")):
        _interpolate(compose, {})


def test_prometheus_scrapes_the_apps_metrics_port_and_path(compose: dict[str, Any]) -> None:
    from tests.app.conftest import _load_app

    app = _load_app()
    services = compose["services"]
    app_service = next(
        name for name, s in services.items() if s.get("build", {}).get("context") == "./examples/app"
    )
    published = {str(port).rsplit(":", 1)[-1] for port in services[app_service]["ports"]}
    assert published == {str(app.PORT)}

    prometheus = services["prometheus"]
    config_flag = next(arg for arg in prometheus["command"] if arg.startswith("--config.file="))
    in_container = config_flag.split("=", 1)[1]
    mount = next(v for v in prometheus["volumes"] if v.split(":")[1] == in_container)
    config = _load(REPO_ROOT / mount.split(":")[0])

    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    job = jobs["app"]
    assert job.get("metrics_path", "/metrics") == app.METRICS_PATH
    assert job.get("scheme", "http") == "http"
    targets = [target for group in job["static_configs"] for target in group["targets"]]
    assert targets == [f"{app_service}:{app.PORT}"]


def test_terraform_gives_the_task_only_database_variables_the_app_reads() -> None:
    """Whatever names terraform/preview uses for the database settings, the app must read them."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in sorted(PREVIEW.glob("*.tf")))
    if "aws_ecs_task_definition" not in text:
        pytest.skip("no aws_ecs_task_definition in terraform/preview yet")
    names = set(re.findall(r"\b((?:DB|PG)[A-Z_]*)\s*=", text))
    names |= set(re.findall(r'name\s*=\s*"((?:DB|PG)[A-Z_]*)"', text))
    source = (APP_DIR / "app.py").read_text(encoding="utf-8")
    assert names, "terraform/preview gives the task no database settings"
    unread = sorted(name for name in names if f'"{name}"' not in source)
    assert unread == [], f"the app does not read {unread}"
