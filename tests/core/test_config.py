"""The configuration file: valid documents parse; every mistake names the file, the line and the key."""

from __future__ import annotations

import re
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from prenv.core import config, contract
from prenv.core.errors import ConfigError, ExitStatus, FailureReason

PATH = ".github/prenv.yml"


def parse(text: str) -> config.Config:
    return config.parse(textwrap.dedent(text), PATH)


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert info.value.exit_status is ExitStatus.USAGE
    assert info.value.reason is FailureReason.CONFIG_INVALID
    return info.value


def test_minimal_config_gets_defaults() -> None:
    cfg = parse("""
        backend:
          bucket: my-state
          region: eu-west-1
    """)
    assert cfg.backend == config.Backend(bucket="my-state", region="eu-west-1")
    assert cfg.backend.key == "preview.tfstate"
    assert cfg.backend.workspace_key_prefix == "prenv"
    assert cfg.terraform.root == ""  # the preview root shipped with prenv
    assert cfg.root_path(Path("/repo")) is None
    assert cfg.terraform.url_output == "url"
    assert cfg.terraform.lock_timeout == timedelta(minutes=2)
    assert cfg.workspace_pattern == "pr-{number}"
    assert cfg.cleanup.sleep_after is None  # previews never sleep unless asked
    assert cfg.path == PATH
    # The app contract's defaults; prenv's own health check asks the app's health path.
    assert cfg.app == config.App(port=contract.PORT, health_path=contract.HEALTH_PATH, environment={})
    assert cfg.health_check.path == contract.HEALTH_PATH
    assert cfg.build == config.Build(context="", dockerfile="")
    # Readiness from AWS by default; the HTTP probe from the runner only when asked.
    assert cfg.readiness == config.Readiness(enabled=True, timeout=timedelta(minutes=10))
    assert cfg.health_check.enabled is False
    assert cfg.hooks == config.Hooks(migrate=[], seed=[], pre_destroy=[])
    assert (cfg.hooks.pre_destroy_timeout, cfg.hooks.pre_destroy_blocking) == (timedelta(minutes=10), False)


def test_app_settings_reach_the_health_check_unless_it_has_its_own_path() -> None:
    cfg = parse("""
        backend: {bucket: b, region: r}
        app:
          port: 3000
          health_path: /up
          environment: {LOG_LEVEL: debug}
        build: {context: ., dockerfile: docker/Dockerfile}
    """)
    assert cfg.app == config.App(port=3000, health_path="/up", environment={"LOG_LEVEL": "debug"})
    assert cfg.health_check.path == "/up"
    assert cfg.build == config.Build(context=".", dockerfile="docker/Dockerfile")
    own = parse("backend: {bucket: b, region: r}\napp: {health_path: /up}\nhealth_check: {path: /ready}\n")
    assert own.health_check.path == "/ready"


def test_hooks_and_readiness() -> None:
    cfg = parse("""
        backend: {bucket: b, region: us-east-1}
        readiness: {timeout: 15m}
        hooks:
          migrate: [python, app.py, migrate]
          seed: [python, app.py, seed, --small]
          pre_destroy: [python, app.py, export, "s3://backups/a b"]
          pre_destroy_timeout: 2m
          pre_destroy_blocking: true
    """)
    assert cfg.readiness.timeout == timedelta(minutes=15)
    assert cfg.hooks.migrate == ["python", "app.py", "migrate"]
    assert cfg.hooks.seed == ["python", "app.py", "seed", "--small"]
    assert cfg.hooks.pre_destroy == ["python", "app.py", "export", "s3://backups/a b"]
    assert (cfg.hooks.pre_destroy_timeout, cfg.hooks.pre_destroy_blocking) == (timedelta(minutes=2), True)


def test_full_config() -> None:
    cfg = parse("""
        version: 1
        backend: {bucket: b, region: us-east-1, key: app.tfstate, workspace_key_prefix: previews}
        terraform:
          root: infra/preview
          binary: tofu
          lock_timeout: 90s
          url_output: preview_url
          variables:
            instance_count: 2
            tags: {team: web}
        workspace_pattern: preview-{number}
        image: ghcr.io/o/app:latest
        max_previews: 10
        cleanup: {max_age: 3d, warn_before: 12h, sleep_after: 8h}
        comment: {mask_patterns: ["sk_live_[a-z0-9]+"]}
    """)
    assert cfg.terraform.root == "infra/preview"
    assert cfg.terraform.lock_timeout == timedelta(seconds=90)
    assert cfg.terraform.variables == {"instance_count": 2, "tags": {"team": "web"}}
    assert cfg.cleanup.max_age == timedelta(days=3)
    assert cfg.cleanup.warn_before == timedelta(hours=12)
    assert cfg.cleanup.sleep_after == timedelta(hours=8)
    assert cfg.comment.mask_patterns == ["sk_live_[a-z0-9]+"]
    with pytest.raises(AttributeError):
        cfg.image = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "backend:\n  bucket: b\n  region: r\nbakend: {}\n",
            ".github/prenv.yml:4: unknown key 'bakend' in the top level; did you mean 'backend'?",
        ),
        (
            "backend:\n  bucket: b\n  region: r\n  workspace_prefix: x\n",
            ".github/prenv.yml:4: unknown key 'backend.workspace_prefix' in backend; "
            "did you mean 'workspace_key_prefix'?",
        ),
        (
            "terraform:\n  root: x\n",
            ".github/prenv.yml:1: missing required key 'backend'; add 'backend:' under the top level",
        ),
        (
            "backend:\n  region: r\n",
            ".github/prenv.yml:2: missing required key 'backend.bucket'; add 'bucket:' under backend",
        ),
        (
            "backend:\n  bucket: 12345\n  region: r\n",
            ".github/prenv.yml:2: backend.bucket: expected a string, got an integer 12345",
        ),
        (
            "backend: {bucket: b, region: r}\nmax_previews: yes\n",
            ".github/prenv.yml:2: max_previews: expected an integer, got a boolean True",
        ),
        (
            "backend: {bucket: b, region: r}\nterraform:\n  lock_timeout: soon\n",
            ".github/prenv.yml:3: terraform.lock_timeout: 'soon' is not a duration; "
            "write a number and a unit, such as 30m, 12h or 7d",
        ),
        (
            "backend: {bucket: b, region: r}\nterraform: [a, b]\n",
            ".github/prenv.yml:2: terraform: expected a mapping, got a list",
        ),
        (
            "backend: {bucket: b, region: r}\nworkspace_pattern: pr-{branch}\n",
            ".github/prenv.yml:2: the workspace pattern 'pr-{branch}' must contain `{number}` exactly once",
        ),
        (
            "backend: {bucket: ' ', region: r}\n",
            ".github/prenv.yml:1: backend.bucket must not be empty",
        ),
        (
            "backend: {bucket: b, region: r}\nbackend: {bucket: c, region: r}\n",
            ".github/prenv.yml:2: duplicate key 'backend'; keep one of them",
        ),
        (
            "backend: {bucket: b, region: r}\ncomment:\n  mask_patterns: ['(']\n",
            ".github/prenv.yml:3: comment.mask_patterns: '(' is not a valid regular expression",
        ),
        (
            "backend: {bucket: b, region: r}\nversion: 2\n",
            ".github/prenv.yml:2: version must be 1, the only format version this prenv reads",
        ),
        ("- a\n- b\n", ".github/prenv.yml:1: expected a mapping of settings at the top level, got a list"),
        (
            "backend: {bucket: b, region: r}\ncleanup:\n  sleep_after: 7d\n",
            ".github/prenv.yml:3: cleanup.sleep_after (1w) must be shorter than cleanup.max_age (1w): a "
            "preview idle that long is warned and destroyed instead",
        ),
        (
            "backend: {bucket: b, region: r}\ncleanup:\n  sleep_after: 0m\n",
            ".github/prenv.yml:3: cleanup.sleep_after must be longer than 0 (or null: no sleep)",
        ),
        (
            "backend: {bucket: b, region: r}\ncleanup:\n  sleep_after: tonight\n",
            ".github/prenv.yml:3: cleanup.sleep_after: 'tonight' is not a duration",
        ),
        (
            "backend: {bucket: b, region: r}\napp:\n  port: 80\n",
            ".github/prenv.yml:3: app.port must be from 1024 to 65535: the container runs as a non-root "
            "user, which cannot bind lower ports",
        ),
        (
            "backend: {bucket: b, region: r}\napp:\n  health_path: healthz\n",
            ".github/prenv.yml:3: app.health_path must be a URL path starting with /, such as /healthz",
        ),
        (
            "backend: {bucket: b, region: r}\napp:\n  environment: {PGHOST: db}\n",
            ".github/prenv.yml:3: app.environment: PGHOST is set by the platform (the app contract, "
            "docs/local.md); remove it",
        ),
        (
            "backend: {bucket: b, region: r}\napp:\n  environment: {PRENV_X: '1'}\n",
            ".github/prenv.yml:3: app.environment: PRENV_X is set by the platform",
        ),
        (
            "backend: {bucket: b, region: r}\napp:\n  environment: {STRIPE_SECRET_KEY: sk}\n",
            ".github/prenv.yml:3: app.environment: STRIPE_SECRET_KEY looks like a secret; plain values end "
            "up in the task definition and Terraform's state, so secrets never go here",
        ),
        (
            "backend: {bucket: b, region: r}\napp:\n  environment: {1X: a}\n",
            ".github/prenv.yml:3: app.environment: '1X' is not a variable name",
        ),
        (
            "backend: {bucket: b, region: r}\napp:\n  environment: {LEVEL: 3}\n",
            ".github/prenv.yml:3: app.environment.LEVEL: expected a string, got an integer 3",
        ),
        (
            "backend: {bucket: b, region: r}\nterraform:\n  variables:\n    container_port: 3000\n",
            ".github/prenv.yml:4: terraform.variables.container_port: set app.port instead "
            "(prenv passes it to the root)",
        ),
        (
            "backend: {bucket: b, region: r}\nterraform:\n  root: ' infra'\n",
            ".github/prenv.yml:3: terraform.root must not start or end with spaces",
        ),
        (
            "backend: {bucket: b, region: r}\ndatabase:\n  mode: aurora\n",
            ".github/prenv.yml:3: database.mode must be one of dedicated (an RDS PostgreSQL instance per "
            "preview); shared (a database and a role per preview on the base's shared server); none (no "
            "database), not 'aurora'",
        ),
        (
            "backend: {bucket: b, region: r}\ndatabase:\n  mode: true\n",
            ".github/prenv.yml:3: database.mode: expected a string, got a boolean True",
        ),
        (
            "backend: {bucket: b, region: r}\ndatabase:\n  server: x\n",
            ".github/prenv.yml:3: unknown key 'database.server' in database; known keys: mode",
        ),
        (
            "backend: {bucket: b, region: r}\nhooks:\n  migrate: python app.py migrate\n",
            ".github/prenv.yml:3: hooks.migrate: expected a list, got a string 'python app.py migrate'",
        ),
        (
            "backend: {bucket: b, region: r}\nhooks:\n  seed: ['', seed]\n",
            ".github/prenv.yml:3: hooks.seed must start with the program to run",
        ),
        (
            "backend: {bucket: b, region: r}\nhooks:\n  pre_destroy: [export, 3]\n",
            ".github/prenv.yml:3: hooks.pre_destroy[1]: expected a string, got an integer 3",
        ),
        (
            "backend: {bucket: b, region: r}\nreadiness:\n  timeout: 0s\n",
            ".github/prenv.yml:3: readiness.timeout must be longer than 0s",
        ),
    ],
)
def test_errors_name_file_line_and_key(text: str, expected: str) -> None:
    assert error_of(text).one_line().startswith(expected)


def test_malformed_yaml_names_line_and_column() -> None:
    err = error_of("backend:\n  bucket: b\n  region: [r\n")
    assert re.match(r"\.github/prenv\.yml:4:1: invalid YAML: .+; fix the syntax$", err.one_line()), (
        err.one_line()
    )


def test_empty_file_says_backend_is_missing() -> None:
    assert "missing required key 'backend'" in error_of("").message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path / "nope.yml")
    assert info.value.one_line() == (
        f"{tmp_path / 'nope.yml'}: configuration file not found; "
        "create it (see docs/setup.md) or pass --config PATH"
    )


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("12h", 43200), ("7d", 604800), ("2w", 1209600)]
)
def test_durations(text: str, seconds: int) -> None:
    assert config.parse_duration(text).total_seconds() == seconds
    assert (
        config.parse_duration(config.format_duration(config.parse_duration(text))).total_seconds() == seconds
    )


@pytest.mark.parametrize("mode", ["dedicated", "shared", "none"])
def test_database_modes(mode: str) -> None:
    cfg = parse(f"backend: {{bucket: b, region: r}}\ndatabase:\n  mode: {mode}\n")
    assert cfg.database.mode == mode


def test_database_mode_defaults_to_a_dedicated_instance() -> None:
    assert parse("backend: {bucket: b, region: r}\n").database == config.DatabaseSettings(mode="dedicated")
