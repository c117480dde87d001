"""The app contract (prenv/core/contract.py) against everything that must follow it: terraform/preview,
docker-compose.yml, docs/local.md and examples/app. Each check returns what disagrees; the planted
tests show that each one notices drift."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from prenv.core import contract
from scripts import tfdocs
from tests.app import dockerfile
from tests.app.conftest import APP_DIR, _load_app
from tests.compose import spec
from tests.helpers import REPO_ROOT

PREVIEW = REPO_ROOT / "terraform" / "preview"
DOCS = REPO_ROOT / "docs" / "local.md"
DATABASE = set(contract.DATABASE_VARIABLE_NAMES)
SECRETS = set(contract.SECRET_VARIABLE_NAMES)
PLAIN = DATABASE - SECRETS


def _block(text: str, start: str) -> str:
    """The text from `start` to its matching closing bracket."""
    at = text.index(start) + len(start)
    opening = text[at - 1]
    closing = {"{": "}", "[": "]", "(": ")"}[opening]
    depth = 1
    for index in range(at, len(text)):
        depth += {opening: 1, closing: -1}.get(text[index], 0)
        if depth == 0:
            return text[at:index]
    raise ValueError(f"no closing {closing} after {start!r}")


# --- terraform/preview ---------------------------------------------------------------------------------


def terraform_drift(root: Path) -> list[str]:
    variables, _ = tfdocs.read_root(root)
    defaults = {variable.name: variable.default for variable in variables}
    expected = {
        "container_port": contract.PORT,
        "container_user": contract.USER,
        "read_only_root_filesystem": contract.READ_ONLY_ROOT_FILESYSTEM,
        "health_check_path": contract.HEALTH_PATH,
    }
    problems = [
        f"variables.tf: {name} defaults to {defaults.get(name)!r}, the contract says {value!r}"
        for name, value in expected.items()
        if defaults.get(name) != value
    ]
    ecs = (root / "ecs.tf").read_text(encoding="utf-8")
    container = _block(ecs, "container = {")
    # The database settings, given to the container whenever the preview has a database (database.tf).
    database = _block(ecs, "db_environment = local.db == null ? {} : {")
    environment = set(
        re.findall(
            r"^\s*([A-Z][A-Z0-9_]*)\s*=",
            _block(container, "merge(var.environment, local.db_environment, {"),
            re.M,
        )
    ) | set(re.findall(r"^\s*([A-Z][A-Z0-9_]*)\s*=", database, re.M))
    secrets = set(
        re.findall(
            r'name\s*=\s*"([A-Z][A-Z0-9_]*)",\s*valueFrom',
            _block(container, "secrets = local.db == null ? [] : ["),
        )
    )
    problems += [f"ecs.tf: the task's environment lacks {name}" for name in sorted(PLAIN - environment)]
    problems += [
        f"ecs.tf: {name} is a plain environment variable; the contract delivers it by valueFrom"
        for name in sorted(SECRETS & environment)
    ]
    if secrets != SECRETS:
        problems.append(f"ecs.tf: the task's secrets are {sorted(secrets)}, the contract's {sorted(SECRETS)}")
    url = re.search(r'^\s*DATABASE_URL\s*=\s*"postgresql://([^"@]*)@', database, re.M)
    if url is None or ":" in url.group(1):
        problems.append(
            "ecs.tf: DATABASE_URL must be postgresql://USER@HOST:PORT/DATABASE, without a password"
        )
    for line in (
        f"{contract.PORT_VARIABLE} = tostring(var.container_port)",
        "user = var.container_user",
        "readonlyRootFilesystem = var.read_only_root_filesystem",
    ):
        if not re.search(
            r"^\s*" + r"\s*=\s*".join(map(re.escape, line.split(" = "))) + r"\s*$", container, re.M
        ):
            problems.append(f"ecs.tf: the container lacks `{line}`")
    scratch = set(
        re.findall(r'=\s*"(/[^"]*)"', _block(ecs, "scratch_volumes = var.read_only_root_filesystem ? {"))
    )
    problems += [
        f"ecs.tf: no writable volume at {path}" for path in contract.WRITABLE_PATHS if path not in scratch
    ]
    problems += [
        f"variables.tf: no variable {variable} for app.{setting}"
        for setting, variable in contract.ROOT_VARIABLES.items()
        if variable not in defaults
    ]
    if defaults.get("image", "") is not None:
        problems.append("variables.tf: image must default to null (the placeholder runs then)")
    if f'coalesce(var.image, "{contract.PLACEHOLDER_IMAGE}")' not in ecs:
        problems.append(f"ecs.tf: the placeholder image is not {contract.PLACEHOLDER_IMAGE}")
    steps = re.findall(r'\{\s*name\s*=\s*"([^"]+)",\s*command\s*=', _block(ecs, "init_steps = ["))
    if tuple(steps) != contract.INIT_STEPS:
        problems.append(f"ecs.tf: the init steps are {steps}, the contract's {list(contract.INIT_STEPS)}")
    if 'container_name = "' + contract.APP_CONTAINER + '"' not in re.sub(
        r"\s+", " ", (root / "main.tf").read_text(encoding="utf-8")
    ):
        problems.append(f"main.tf: the app container is not named {contract.APP_CONTAINER!r}")
    main = (root / "main.tf").read_text(encoding="utf-8")
    if not re.search(r"^\s*path\s*=\s*var\.health_check_path\s*$", _block(main, "health_check {"), re.M):
        problems.append("main.tf: the target group's health check does not ask var.health_check_path")
    return problems


# --- the placeholder image ------------------------------------------------------------------------------


def placeholder_command(ecs: str) -> list[str]:
    """The placeholder's command as ECS gets it, for health path `$1`: HCL's string literals decoded
    (their escapes are JSON's, `$${` is a literal `${`) and joined as ecs.tf joins them."""
    block = _block(ecs, "placeholder_command = [")
    match = re.fullmatch(
        r'\s*"sh", "-c", join\("\\n", \[(.*)\]\), "placeholder", var\.health_check_path\s*', block, re.S
    )
    assert match, block
    lines = [
        json.loads(literal).replace("$${", "${")
        for literal in re.findall(r'^\s*("(?:[^"\\]|\\.)*"),?\s*$', match.group(1), re.M)
    ]
    return ["sh", "-c", "\n".join(lines), "placeholder"]


HTTPD = """#!/usr/bin/env python3
# busybox httpd -f -v -p PORT -h DIR, as far as the placeholder uses it: static files of DIR on PORT.
import functools, http.server, sys
args = sys.argv[1:]
port, home = int(args[args.index("-p") + 1]), args[args.index("-h") + 1]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=home)
http.server.ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()
"""


# --- docker-compose.yml ---------------------------------------------------------------------------------


def compose_drift(document: dict[str, Any], app: ModuleType) -> list[str]:
    raw = document["services"]
    services = spec.interpolate(document, spec.env_file())["services"]
    problems = []
    built = [name for name, service in services.items() if "build" in service]
    for name in built:
        service, environment = services[name], services[name].get("environment", {})
        problems += [
            f"{name}: no {variable} in its environment" for variable in sorted(DATABASE - set(environment))
        ]
        for secret in sorted(SECRETS & set(environment)):
            if not re.fullmatch(r"\$\{[A-Z_]+:\?[^}]*\}", str(raw[name]["environment"][secret])):
                problems.append(
                    f"{name}: {secret} must come from .env as ${{NAME:?...}}, not be written here"
                )
        if set(environment) >= DATABASE:
            url = contract.database_url(
                user=environment["PGUSER"],
                host=environment["PGHOST"],
                port=environment["PGPORT"],
                database=environment["PGDATABASE"],
            )
            if environment["DATABASE_URL"] != url:
                problems.append(
                    f"{name}: DATABASE_URL is {environment['DATABASE_URL']!r}, the contract's {url!r}"
                )
        if service.get("user") != contract.USER:
            problems.append(f"{name}: user {service.get('user')!r}, the contract's {contract.USER!r}")
        if service.get("read_only") is not contract.READ_ONLY_ROOT_FILESYSTEM:
            problems.append(f"{name}: read_only is {service.get('read_only')!r}")
        if tuple(service.get("tmpfs", [])) != contract.WRITABLE_PATHS:
            problems.append(
                f"{name}: tmpfs {service.get('tmpfs')}, the contract's writable paths "
                f"{contract.WRITABLE_PATHS}"
            )
    serving = [name for name in built if services[name].get("ports")]
    for name in serving:
        if set(spec.published(services[name])) != {contract.PORT}:
            problems.append(
                f"{name}: publishes {sorted(spec.published(services[name]))}, not {contract.PORT}"
            )
        if services[name].get("healthcheck", {}).get("test") != ["CMD", "python", "app.py", "--healthcheck"]:
            problems.append(f"{name}: the health check is not the app's own (which asks {app.HEALTH_PATH})")
    if not serving:
        problems.append("no built service publishes the app's port")
    return problems


# --- examples/app --------------------------------------------------------------------------------------


def app_drift(app: ModuleType, image: list[tuple[str, str]], source: str) -> list[str]:
    problems = []
    if app.PORT != contract.PORT:
        problems.append(f"app.py: PORT = {app.PORT}, the contract's {contract.PORT}")
    if app.HEALTH_PATH != contract.HEALTH_PATH:
        problems.append(f"app.py: HEALTH_PATH = {app.HEALTH_PATH!r}, the contract's {contract.HEALTH_PATH!r}")
    users = [args for word, args in image if word == "USER"]
    if users[-1:] != [contract.USER]:
        problems.append(f"Dockerfile: USER {users[-1:]}, the contract's {contract.USER}")
    if ("EXPOSE", str(contract.PORT)) not in image:
        problems.append(f"Dockerfile: no EXPOSE {contract.PORT}")
    if dockerfile.environment(image).get(contract.PORT_VARIABLE) != str(contract.PORT):
        problems.append(f"Dockerfile: no ENV {contract.PORT_VARIABLE}={contract.PORT}")
    if ("STOPSIGNAL", contract.STOP_SIGNAL) not in image:
        problems.append(f"Dockerfile: no STOPSIGNAL {contract.STOP_SIGNAL}")
    read = set(re.findall(r'"((?:PG|DB_)[A-Z_]*|DATABASE_URL)"', source))
    allowed = DATABASE | set(contract.OPTIONAL_DATABASE_VARIABLES)
    problems += [f"app.py reads {name}, which is not in the contract" for name in sorted(read - allowed)]
    # And it understands them: every setting from its variable, the URL without a password.
    given = {"PGHOST": "h", "PGPORT": "6543", "PGDATABASE": "d", "PGUSER": "u", "PGPASSWORD": "p"}
    for env in (
        given,
        {
            "DATABASE_URL": contract.database_url(user="u", host="h", port=6543, database="d"),
            "PGPASSWORD": "p",
        },
    ):
        settings = app.Settings.from_env(env)
        got = (settings.host, settings.port, settings.dbname, settings.user, settings.password)
        if got != ("h", 6543, "d", "u", "p"):
            problems.append(f"app.py: {sorted(env)} give the settings {got}")
    return problems


# --- docs/local.md -------------------------------------------------------------------------------------


def docs_drift(text: str) -> list[str]:
    section = text.split("### The app contract", 1)[-1].split("\n### ", 1)[0]
    if section == text:
        return ["docs/local.md: no section '### The app contract'"]
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \|(.*)\|$", section, re.M))
    documented = set(rows)
    wanted = DATABASE | {contract.PORT_VARIABLE} | set(contract.OPTIONAL_DATABASE_VARIABLES)
    problems = [f"docs/local.md: the contract table lacks {name}" for name in sorted(wanted - documented)]
    problems += [
        f"docs/local.md: the contract table has {name}, the contract does not"
        for name in sorted(documented - wanted)
    ]
    problems += [
        f"docs/local.md: {name} must say it comes by valueFrom"
        for name in sorted(SECRETS & documented)
        if "valueFrom" not in rows[name]
    ]
    for fact in (
        str(contract.PORT),
        contract.USER,
        contract.HEALTH_PATH,
        *contract.WRITABLE_PATHS,
        contract.STOP_SIGNAL,
    ):
        if f"`{fact}`" not in section:
            problems.append(f"docs/local.md: the contract section does not say `{fact}`")
    problems += [
        f"docs/local.md: the contract section does not say that app.{setting} sets [{variable}]"
        for setting, variable in contract.ROOT_VARIABLES.items()
        if not re.search(rf"^\s*{setting}:.*\[{variable}\]", section, re.M)
    ]
    if contract.PLACEHOLDER_IMAGE not in section:
        problems.append("docs/local.md: the contract section does not name the placeholder image")
    if "read-only" not in section:
        problems.append("docs/local.md: the contract section does not say the root filesystem is read-only")
    return problems


# --- the tests -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app() -> ModuleType:
    return _load_app()


def test_terraform_preview_follows_the_contract() -> None:
    assert terraform_drift(PREVIEW) == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - 127.0.0.1
                return int(response.status), response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, ""
        except OSError:
            time.sleep(0.05)  # not listening yet
    raise AssertionError(f"nothing answers {url}")


@pytest.mark.parametrize("health_path", [contract.HEALTH_PATH, "/status/ready", "/up/"])
def test_the_placeholder_image_keeps_the_contract(tmp_path: Path, health_path: str) -> None:
    """The command ECS runs in the placeholder, run by a POSIX shell with a stand-in for busybox's
    httpd: it listens on $PORT, answers the health path with 200, and writes only below $TMPDIR."""
    command = placeholder_command((PREVIEW / "ecs.tf").read_text(encoding="utf-8"))
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "httpd").write_text(HTTPD.replace("python3", sys.executable, 1), encoding="utf-8")
    (stub / "httpd").chmod(0o755)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    port = _free_port()
    env = {"PATH": f"{stub}:/usr/bin:/bin", contract.PORT_VARIABLE: str(port), "TMPDIR": str(scratch)}
    shell = shutil.which("dash") or shutil.which("sh") or "/bin/sh"  # busybox's sh is POSIX sh too
    process = subprocess.Popen([shell, *command[1:], health_path], env=env, cwd=tmp_path)
    try:
        assert _get(f"http://127.0.0.1:{port}{health_path}")[0] == contract.HEALTHY_STATUS
        status, page = _get(f"http://127.0.0.1:{port}/")
        assert status == 200
        assert "it has no image of its own yet" in page
        written = sorted(p.relative_to(scratch).as_posix() for p in scratch.rglob("*") if p.is_file())
        expected = (health_path + "index.html" if health_path.endswith("/") else health_path).lstrip("/")
        assert written == sorted({"www/index.html", f"www/{expected}"})
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_docker_compose_follows_the_contract(app: ModuleType) -> None:
    assert compose_drift(spec.load(), app) == []


def test_examples_app_follows_the_contract(app: ModuleType) -> None:
    source = (APP_DIR / "app.py").read_text(encoding="utf-8")
    assert app_drift(app, dockerfile.read(APP_DIR / "Dockerfile"), source) == []


def test_docs_describe_the_contract() -> None:
    assert docs_drift(DOCS.read_text(encoding="utf-8")) == []


def test_the_contract_itself() -> None:
    assert contract.DATABASE_VARIABLE_NAMES == (
        "PGHOST",
        "PGPORT",
        "PGDATABASE",
        "PGUSER",
        "PGPASSWORD",
        "DATABASE_URL",
    )
    assert contract.SECRET_VARIABLE_NAMES == ("PGPASSWORD",)
    assert contract.database_url(user="pr_7", host="db.example", port=5432, database="app db") == (
        "postgresql://pr_7@db.example:5432/app%20db"
    )
    assert f"{contract.UID}:{contract.GID}" == contract.USER
    assert 0 not in (contract.UID, contract.GID)


def _planted_root(tmp_path: Path, file: str, old: str, new: str) -> Path:
    root = tmp_path / "preview"
    root.mkdir()
    for path in PREVIEW.glob("*.tf"):
        (root / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    text = (root / file).read_text(encoding="utf-8")
    assert old in text, old
    (root / file).write_text(text.replace(old, new), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("file", "old", "new", "problem"),
    [
        (
            "variables.tf",
            'default     = "10001:10001"',
            'default     = "1000"',
            "variables.tf: container_user defaults to '1000', the contract says '10001:10001'",
        ),
        (
            "variables.tf",
            'default     = "/healthz"',
            'default     = "/"',
            "variables.tf: health_check_path defaults to '/', the contract says '/healthz'",
        ),
        (
            "ecs.tf",
            "    PGUSER       = local.db.user\n",
            "",
            "ecs.tf: the task's environment lacks PGUSER",
        ),
        (
            "ecs.tf",
            '{ name = "PGPASSWORD", valueFrom',
            '{ name = "DB_PASSWORD", valueFrom',
            "ecs.tf: the task's secrets are ['DB_PASSWORD'], the contract's ['PGPASSWORD']",
        ),
        (
            "ecs.tf",
            '"postgresql://${local.db.user}@',
            '"postgresql://${local.db.user}:${var.head_sha}@',
            "ecs.tf: DATABASE_URL must be postgresql://USER@HOST:PORT/DATABASE, without a password",
        ),
        (
            "variables.tf",
            "  default     = null\n\n  validation {\n    condition     = var.image == null",
            '  default     = "nginx"\n\n  validation {\n    condition     = var.image == null',
            "variables.tf: image must default to null (the placeholder runs then)",
        ),
        (
            "ecs.tf",
            '"public.ecr.aws/docker/library/busybox:1.37")',
            '"public.ecr.aws/nginx/nginx-unprivileged:1.27-alpine")',
            f"ecs.tf: the placeholder image is not {contract.PLACEHOLDER_IMAGE}",
        ),
        (
            "ecs.tf",
            'tmp              = "/tmp"',
            'tmp              = "/scratch"',
            "ecs.tf: no writable volume at /tmp",
        ),
        (
            "ecs.tf",
            '{ name = "seed", command = var.seed_command }',
            '{ name = "load", command = var.seed_command }',
            "ecs.tf: the init steps are ['migrate', 'load'], the contract's ['migrate', 'seed']",
        ),
    ],
)
def test_terraform_drift_is_caught(tmp_path: Path, file: str, old: str, new: str, problem: str) -> None:
    assert terraform_drift(_planted_root(tmp_path, file, old, new)) == [problem]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("    DATABASE_URL: postgresql://", "    X_URL: postgresql://", "no DATABASE_URL in its environment"),
        (
            "    PGPASSWORD: ${APP_DB_PASSWORD:?set APP_DB_PASSWORD in .env (cp .env.example .env)}",
            "    PGPASSWORD: hunter2",
            "PGPASSWORD must come from .env as ${NAME:?...}, not be written here",
        ),
        (
            "DATABASE_URL: postgresql://${APP_DB_USER:-app}@db",
            "DATABASE_URL: postgresql://${APP_DB_USER:-app}:${APP_DB_PASSWORD}@db",
            "DATABASE_URL is 'postgresql://app:change-me-too@db:5432/app', the contract's "
            "'postgresql://app@db:5432/app'",
        ),
        ('  user: "10001:10001"', '  user: "1000"', "user '1000', the contract's '10001:10001'"),
        ("  read_only: true", "  read_only: false", "read_only is False"),
    ],
)
def test_compose_drift_is_caught(app: ModuleType, old: str, new: str, problem: str) -> None:
    """Planted in the shared x-app block: the app and its migrate and seed steps all drift."""
    text = spec.COMPOSE.read_text(encoding="utf-8")
    assert old in text.split("\nservices:", 1)[0]
    problems = compose_drift(yaml.safe_load(text.replace(old, new, 1)), app)
    assert problems == [f"{name}: {problem}" for name in ("migrate", "seed", "app")]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("| `PGUSER` |", "| `DB_USERNAME` |", "docs/local.md: the contract table lacks PGUSER"),
        ("`10001:10001`", "`1000`", "docs/local.md: the contract section does not say `10001:10001`"),
        (
            "  port: 8080              # 1024 to 65535 (the container is not root) [container_port]",
            "  port: 8080",
            "docs/local.md: the contract section does not say that app.port sets [container_port]",
        ),
        (
            '`valueFrom = "<secret ARN>:password::"`',
            "the RDS secret",
            "docs/local.md: PGPASSWORD must say it comes by valueFrom",
        ),
    ],
)
def test_docs_drift_is_caught(old: str, new: str, problem: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert old in text
    assert problem in docs_drift(text.replace(old, new))


def test_app_drift_is_caught(app: ModuleType) -> None:
    image = [
        (word, "1000" if word == "USER" else args) for word, args in dockerfile.read(APP_DIR / "Dockerfile")
    ]
    source = (APP_DIR / "app.py").read_text(encoding="utf-8") + '\nos.environ.get("DB_HOST")\n'
    assert app_drift(app, image, source) == [
        "Dockerfile: USER ['1000'], the contract's 10001:10001",
        "app.py reads DB_HOST, which is not in the contract",
    ]
