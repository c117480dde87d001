"""docker-compose.yml: valid Compose, the same PostgreSQL major as RDS, Prometheus scraping the app."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.compose import spec
from tests.compose.spec import COMPLETED, COMPOSE, ENV_EXAMPLE, HEALTHY
from tests.helpers import REPO_ROOT

HERE = Path(__file__).resolve().parent
PREVIEW = REPO_ROOT / "terraform" / "preview"
APP_DIR = REPO_ROOT / "examples" / "app"
# A preview's order: the PR's database, then migrate, seed, the app; Prometheus watches the app.
START_ORDER = ["db", "provision", "migrate", "seed", "app", "prometheus"]
DEPENDENCIES = {
    "db": {},
    "provision": {"db": HEALTHY},
    "migrate": {"provision": COMPLETED},
    "seed": {"migrate": COMPLETED},
    "app": {"db": HEALTHY, "seed": COMPLETED},
    "prometheus": {"app": HEALTHY},
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = spec.load(COMPOSE)
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
    assert _errors(schema, spec.interpolate(compose, spec.env_file(ENV_EXAMPLE))) == []


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
    images = {s["image"] for s in compose["services"].values() if s.get("image", "").startswith("postgres:")}
    assert images == {compose["services"]["db"]["image"]}  # server and provisioning client: one image
    (image,) = images
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


def test_services_have_health_checks_and_steps_run_once(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if spec.is_step(service):
            assert service.get("healthcheck", {}).get("test") is None, f"{name} is a step: no health check"
        else:
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
            assert service["restart"] == "unless-stopped", name
    steps = [name for name, service in compose["services"].items() if spec.is_step(service)]
    assert steps == ["provision", "migrate", "seed"]


def test_start_order_db_provision_migrate_seed_app_prometheus(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {name: spec.dependencies(service) for name, service in services.items()} == DEPENDENCIES
    assert spec.dependency_problems(services) == []
    assert spec.start_order(services) == START_ORDER
    assert spec.unforced(services, START_ORDER) == []  # the only order compose may choose
    assert services["app"]["depends_on"]["db"]["restart"] is True  # the app restarts with its database


@pytest.mark.parametrize(
    ("plant", "problem"),
    [
        (
            lambda s: s["migrate"]["depends_on"]["provision"].update(condition="service_started"),
            "migrate waits for provision with service_started, not service_completed_successfully",
        ),
        (
            lambda s: s["app"]["depends_on"]["db"].update(condition="service_completed_successfully"),
            "app waits for db with service_completed_successfully, not service_healthy",
        ),
        (
            lambda s: s["app"]["depends_on"].update(seeder={"condition": "service_completed_successfully"}),
            "app depends on seeder, which is not a service",
        ),
    ],
)
def test_the_dependency_check_catches_a_wrong_condition(
    compose: dict[str, Any], plant: Any, problem: str
) -> None:
    services = json.loads(json.dumps(compose["services"]))
    plant(services)
    assert spec.dependency_problems(services) == [problem]


def test_the_order_check_catches_a_missing_step(compose: dict[str, Any]) -> None:
    services = json.loads(json.dumps(compose["services"]))
    services["app"]["depends_on"].pop("seed")  # the app would start before the seed has run
    assert spec.dependency_problems(services) == []
    assert spec.unforced(services, START_ORDER) == ["app can start before seed is done"]
    services["db"]["depends_on"] = {"app": {"condition": "service_healthy"}}
    with pytest.raises(ValueError, match="depends_on has a cycle among db, provision, migrate, seed, app"):
        spec.start_order(services)


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


def test_the_app_and_its_steps_share_image_user_and_environment(compose: dict[str, Any]) -> None:
    services = compose["services"]
    shared = ("build", "image", "user", "read_only", "tmpfs", "environment", "cap_drop", "security_opt")
    for name in ("migrate", "seed"):
        assert {key: services[name].get(key) for key in shared} == {
            key: services["app"].get(key) for key in shared
        }, name
    assert services["migrate"]["command"] == ["python", "app.py", "migrate"]
    assert services["seed"]["command"] == ["python", "app.py", "seed"]


def test_the_local_pr_database_is_made_by_the_shared_mode_script(compose: dict[str, Any]) -> None:
    """provision runs terraform/preview/sql/pr-database.sh for the database and role the app uses."""
    services = spec.interpolate(compose, spec.env_file(ENV_EXAMPLE))["services"]
    provision, app = services["provision"], services["app"]
    mount = next(v for v in provision["volumes"] if v.startswith("./terraform/"))
    host, container, mode = mount.split(":")
    assert (REPO_ROOT / host / "pr-database.sh").is_file()
    assert (mode, provision["entrypoint"], provision["command"]) == (
        "ro",
        ["/bin/sh", f"{container}/pr-database.sh"],
        ["create"],
    )
    made, used = provision["environment"], app["environment"]
    assert (made["PRENV_DB_NAME"], made["PRENV_DB_ROLE"], made["PRENV_DB_PASSWORD"]) == (
        used["PGDATABASE"],
        used["PGUSER"],
        used["PGPASSWORD"],
    )
    assert made["PGHOST"] == used["PGHOST"] == "db"
    # The admin's password is the server's, and only provision gets it.
    assert made["PGPASSWORD"] == services["db"]["environment"]["POSTGRES_PASSWORD"] != used["PGPASSWORD"]


def test_the_env_example_covers_every_variable_and_only_those(compose: dict[str, Any]) -> None:
    variables = spec.variables(COMPOSE.read_text(encoding="utf-8"))
    example = spec.env_file(ENV_EXAMPLE)
    required = {name for name, has_default in variables.items() if not has_default}
    assert required == {"POSTGRES_PASSWORD", "APP_DB_PASSWORD"}
    assert set(example) == set(variables)
    with pytest.raises(KeyError, match=re.escape("POSTGRES_PASSWORD: set POSTGRES_PASSWORD in .env")):
        spec.interpolate(compose["services"]["db"], {})
    with pytest.raises(KeyError, match=re.escape("APP_DB_PASSWORD: set APP_DB_PASSWORD in .env")):
        spec.interpolate(compose, {"POSTGRES_PASSWORD": "x"})


def test_prometheus_scrapes_the_apps_metrics_port_and_path(compose: dict[str, Any]) -> None:
    from tests.app.conftest import _load_app

    app = _load_app()
    services = compose["services"]
    app_service = next(name for name, s in services.items() if s.get("ports") and "build" in s)
    published = {str(port).rsplit(":", 1)[-1] for port in services[app_service]["ports"]}
    assert published == {str(app.PORT)}

    config = spec.load(_prometheus_config(compose))
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    job = jobs["app"]
    assert job.get("metrics_path", "/metrics") == app.METRICS_PATH
    assert job.get("scheme", "http") == "http"
    targets = [target for group in job["static_configs"] for target in group["targets"]]
    assert targets == [f"{app_service}:{app.PORT}"]


def _prometheus_config(compose: dict[str, Any]) -> Path:
    prometheus = compose["services"]["prometheus"]
    config_flag = next(arg for arg in prometheus["command"] if arg.startswith("--config.file="))
    in_container = config_flag.split("=", 1)[1]
    mount = next(v for v in prometheus["volumes"] if v.split(":")[1] == in_container)
    return REPO_ROOT / mount.split(":")[0]


def test_promtool_accepts_the_prometheus_configuration(compose: dict[str, Any]) -> None:
    """The machine's Prometheus (Debian's) checks the file the compose image (v3) mounts."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian's prometheus package; .ci/run installs it)")
    done = subprocess.run(
        [promtool, "check", "config", str(_prometheus_config(compose))],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
