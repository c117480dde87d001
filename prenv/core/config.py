""".github/prenv.yml -> frozen dataclasses, with errors that name the file, the line and the key.

The dataclasses below are the schema: field names are the YAML keys, the annotations their types and
the defaults make a key optional. `_build` walks a parsed document against them, so adding a setting
is adding a field.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from prenv.core import contract, mask, naming
from prenv.core.errors import ConfigError
from prenv.core.limits import (
    CONFIG_LIMIT_BYTES,
    CONFIG_MAX_DEPTH,
    CONFIG_MAX_VALUES,
    MAX_CONCURRENCY,
    MIN_CONCURRENCY,
)
from prenv.core.secrets import DEFAULT_SECRET_NAMES

DEFAULT_PATH = Path(".github/prenv.yml")
JsonValue = Any  # a value Terraform accepts in a .tfvars.json file

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `12h`, `7d`, `2w` -> timedelta. Raises ValueError with the accepted forms."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration; write a number and a unit, such as 30m, 12h or 7d")
    return timedelta(seconds=int(match.group(1)) * _DURATION_UNITS[match.group(2)])


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit in ("w", "d", "h", "m"):
        size = _DURATION_UNITS[unit]
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Backend:
    """The S3 backend holding one state object per workspace."""

    bucket: str
    region: str
    key: str = "preview.tfstate"
    workspace_key_prefix: str = "prenv"
    # Path-style addressing; None means "on when AWS_ENDPOINT_URL(_S3) points at an S3-compatible endpoint".
    use_path_style: bool | None = None

    def path_style(self, *, custom_endpoint: bool) -> bool:
        """Whether S3 is addressed path-style (Terraform's backend and prenv's own S3 client alike)."""
        return self.use_path_style if self.use_path_style is not None else custom_endpoint


def backend_settings(backend: Backend, *, custom_endpoint: bool) -> dict[str, str]:
    """The `-backend-config` settings of the S3 backend (locking by lock file, no DynamoDB).

    `custom_endpoint`: S3 is an S3-compatible endpoint (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL is set).
    """
    settings = {
        "bucket": backend.bucket,
        "region": backend.region,
        "key": backend.key,
        "workspace_key_prefix": backend.workspace_key_prefix,
        "use_lockfile": "true",
        "encrypt": "true",
    }
    if backend.path_style(custom_endpoint=custom_endpoint):
        settings["use_path_style"] = "true"
    return settings


@dataclass(frozen=True)
class TerraformSettings:
    # The root applied per PR, relative to the repository; empty: the preview root shipped with prenv
    # (terraform/preview of prenv's sources, inside the installed package), wherever prenv runs.
    root: str = ""
    binary: str = ""  # default: $PRENV_TERRAFORM, else `terraform` on PATH
    lock_timeout: timedelta = timedelta(minutes=2)
    variables: dict[str, JsonValue] = field(default_factory=dict)
    url_output: str = "url"


@dataclass(frozen=True)
class CommentSettings:
    enabled: bool = True
    # Distinguishes the sticky comments (and Deployments) of several prenv set-ups in one repository.
    environment: str = ""
    # Template overrides by name (deploying, ready, no_changes, failed, destroyed, summary),
    # as paths relative to the repository.
    templates: dict[str, str] = field(default_factory=dict)
    # Regular expressions whose matches are replaced by *** in everything prenv writes to GitHub.
    mask_patterns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Deployments:
    enabled: bool = True
    delete_environment: bool = False


@dataclass(frozen=True)
class App:
    """The app contract's settings a repository may change (defaults: prenv/core/contract.py). prenv
    passes them to the root as the variables `contract.ROOT_VARIABLES` names."""

    port: int = contract.PORT
    health_path: str = contract.HEALTH_PATH
    # Plain environment variables of the app's container; never secrets, never the platform's own.
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Build:
    """The user's image, built by `prenv image` (the action's `command: image`) and pushed to the base's
    ECR repository tagged with the PR's head commit. Empty `context`: prenv builds nothing, and the
    workflow passes its own image (the action's `image` input)."""

    context: str = ""  # the build context, relative to the repository
    dockerfile: str = ""  # relative to the repository; empty: <context>/Dockerfile


@dataclass(frozen=True)
class HealthCheck:
    """The optional HTTP probe of the preview's URL from where prenv runs (off by default: readiness is
    decided from AWS, so previews that the runner cannot reach work)."""

    enabled: bool = False
    path: str = ""  # empty: app.health_path
    timeout: timedelta = timedelta(minutes=5)


# database.mode: what database a preview gets (docs/setup.md, "Databases").
DATABASE_MODES = {
    "dedicated": "an RDS PostgreSQL instance per preview",
    "shared": "a database and a role per preview on the base's shared server",
    "none": "no database",
}


@dataclass(frozen=True)
class DatabaseSettings:
    mode: str = "dedicated"


@dataclass(frozen=True)
class Readiness:
    """When a deploy is ready, from AWS (`prenv.engine.readiness`): the ECS service steady on the new
    task definition and its targets healthy in the target group."""

    enabled: bool = True
    timeout: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class Hooks:
    """The app's steps around a preview's life, each an argument list (no shell).

    `migrate` and `seed` run inside the preview's task, before the app container starts (the root's
    `migrate_command` / `seed_command` variables); `seed` only on a preview's first deploy (or with
    `--reseed`). `pre_destroy` runs as a one-off task before the destroy.
    """

    migrate: list[str] = field(default_factory=list)
    seed: list[str] = field(default_factory=list)
    pre_destroy: list[str] = field(default_factory=list)
    pre_destroy_timeout: timedelta = timedelta(minutes=10)
    # False: a failed (or timed out) pre_destroy is reported and the destroy goes on; True: it stops it.
    pre_destroy_blocking: bool = False


@dataclass(frozen=True)
class Cleanup:
    max_age: timedelta = timedelta(days=7)
    warn_before: timedelta = timedelta(days=1)
    keep_label: str = "prenv:keep"
    stale_lock_age: timedelta = timedelta(hours=2)
    concurrency: int = 4
    # An open PR's preview idle this long sleeps (service at zero tasks, its database stopped) until a
    # push, `/prenv wake` or `prenv wake`; null (the default): previews never sleep.
    sleep_after: timedelta | None = None


@dataclass(frozen=True)
class Config:
    backend: Backend
    terraform: TerraformSettings = field(default_factory=TerraformSettings)
    workspace_pattern: str = "pr-{number}"
    image: str = ""
    app: App = field(default_factory=App)
    build: Build = field(default_factory=Build)
    repository: str = ""  # default: $GITHUB_REPOSITORY, else the git remote `origin`
    max_previews: int = 0  # 0: no cap
    label: str = ""  # when set, only PRs with this label get a preview
    # Values whose names hold one of these words are secret wherever prenv shows them (prenv.core.secrets).
    secret_names: list[str] = field(default_factory=lambda: list(DEFAULT_SECRET_NAMES))
    comment: CommentSettings = field(default_factory=CommentSettings)
    deployments: Deployments = field(default_factory=Deployments)
    health_check: HealthCheck = field(default_factory=HealthCheck)
    readiness: Readiness = field(default_factory=Readiness)
    hooks: Hooks = field(default_factory=Hooks)
    cleanup: Cleanup = field(default_factory=Cleanup)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    version: int = 1
    # Where the file was read from; not a YAML key.
    path: str = field(default=str(DEFAULT_PATH), metadata={"internal": True})

    def root_path(self, base: Path | None = None) -> Path | None:
        """The configured Terraform root, relative to the repository (the directory prenv runs in);
        None: the preview root shipped with prenv."""
        if not self.terraform.root:
            return None
        root = Path(self.terraform.root)
        return root if root.is_absolute() or base is None else base / root


class _Mapping(dict[Any, Any]):
    """A YAML mapping that remembers where it and each of its keys start."""

    line: int = 0
    key_lines: dict[Any, int]


class _LineLoader(yaml.SafeLoader):
    """A safe loader that also bounds what a small file can make: how deep values nest (also through
    aliases), how many values the document expands to with its aliases, and no alias to itself."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._values = 0
        self._open: set[str] = set()  # anchors whose value is being read
        self._sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth) once expanded

    def _expanded(self, node: yaml.Node) -> tuple[int, int]:
        """How many values `node` stands for once every alias in it is expanded, and how deep they go."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        parts = [self._expanded(child) for child in children]
        found = (1 + sum(n for n, _ in parts), 1 + max((d for _, d in parts), default=0))
        self._sizes[id(node)] = found
        return found

    def _add(self, values: int, line: int) -> None:
        self._values += values
        if self._values > CONFIG_MAX_VALUES:
            raise _Located(
                line,
                f"the YAML expands to more than {CONFIG_MAX_VALUES:,} values (through its aliases)",
                "write the values out, or use fewer aliases of large values",
            )

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # PyYAML's stubs leave it untyped
        line = event.start_mark.line + 1
        anchor = getattr(event, "anchor", None)
        if isinstance(event, yaml.AliasEvent):
            if anchor in self._open:
                raise _Located(line, f"the alias *{anchor} is inside its own anchor", "remove the alias")
            node = typing.cast(yaml.Node, super().compose_node(parent, index))
            values, depth = self._expanded(node)
            self._check_depth(self._depth + depth, line)
            self._add(values, line)
            return node
        self._check_depth(self._depth + 1, line)
        self._depth += 1
        if anchor:
            self._open.add(anchor)
        try:
            node = typing.cast(yaml.Node, super().compose_node(parent, index))
        finally:
            self._depth -= 1
            self._open.discard(anchor or "")
        self._add(1, line)
        return node

    @staticmethod
    def _check_depth(depth: int, line: int) -> None:
        if depth > CONFIG_MAX_DEPTH:
            raise _Located(
                line,
                f"values nest deeper than {CONFIG_MAX_DEPTH} levels",
                "flatten the structure (Terraform variables rarely need more than a few levels)",
            )


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _Mapping:
    mapping = _Mapping()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in mapping:
            raise _Located(line, f"duplicate key {key!r}", "keep one of them")
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = line
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _Located(Exception):
    def __init__(self, line: int, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.line, self.message, self.hint = line, message, hint


_TYPE_WORDS = {str: "a string", int: "an integer", bool: "true or false", float: "a number"}


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    kind = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list"}.get(
        type(value), "a mapping" if isinstance(value, dict) else type(value).__name__
    )
    shown = repr(value) if not isinstance(value, dict | list) else ""
    return f"{kind} {shown}".strip()


def _check_items(tp: Any, value: Any, where: str, line: int) -> Any:
    """Mappings and lists: the container type, then the item type where it is `str`."""
    origin = typing.get_origin(tp)
    if origin is dict:
        if not isinstance(value, dict):
            raise _Located(line, f"{where}: expected a mapping, got {_describe(value)}")
        value_type = typing.get_args(tp)[1]
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Located(line, f"{where}: keys must be strings, got {_describe(key)}")
            if value_type is str and not isinstance(item, str):
                raise _Located(line, f"{where}.{key}: expected a string, got {_describe(item)}")
        return dict(value)
    if not isinstance(value, list):
        raise _Located(line, f"{where}: expected a list, got {_describe(value)}")
    (item_type,) = typing.get_args(tp)
    for index, item in enumerate(value):
        if item_type is str and not isinstance(item, str):
            raise _Located(line, f"{where}[{index}]: expected a string, got {_describe(item)}")
    return list(value)


def _convert(tp: Any, value: Any, where: str, line: int) -> Any:
    """Check `value` against the annotation `tp` and convert it (durations, nested sections)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        return None if value is None else _convert(options[0], value, where, line)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise _Located(line, f"{where}: expected a mapping, got {_describe(value)}")
        return _build(tp, value, where)  # type: ignore[arg-type]
    if tp is timedelta:
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            raise _Located(line, f"{where}: {exc}") from None
    if origin in (dict, list):
        return _check_items(tp, value, where, line)
    if tp is Any:
        return value
    # bool is a subclass of int: `max_previews: yes` must not pass as 1.
    if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
        raise _Located(line, f"{where}: expected {_TYPE_WORDS.get(tp, tp.__name__)}, got {_describe(value)}")
    return value


def _build(cls: type[Any], mapping: dict[Any, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    lines: dict[Any, int] = getattr(mapping, "key_lines", {})
    here = getattr(mapping, "line", 1)
    section = prefix or "the top level"
    for key in mapping:
        if key not in fields:
            close = difflib.get_close_matches(str(key), fields, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(sorted(fields))}"
            name = f"{prefix}.{key}" if prefix else str(key)
            raise _Located(lines.get(key, here), f"unknown key '{name}' in {section}", hint)
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        where = f"{prefix}.{name}" if prefix else name
        if name not in mapping:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise _Located(here, f"missing required key '{where}'", f"add '{name}:' under {section}")
            continue
        values[name] = _convert(hints[name], mapping[name], where, lines.get(name, here))
    return cls(**values)


def _validate(config: Config) -> None:
    """Checks that need more than a type: each raises _Located-free ValueError(key, message)."""
    checks: list[tuple[str, bool, str]] = [
        ("backend.bucket", bool(config.backend.bucket.strip()), "must not be empty"),
        ("backend.region", bool(config.backend.region.strip()), "must not be empty"),
        ("backend.key", bool(config.backend.key.strip()), "must not be empty"),
        (
            "terraform.root",
            config.terraform.root == config.terraform.root.strip(),
            "must not start or end with spaces (leave it out for the root shipped with prenv)",
        ),
        ("terraform.url_output", bool(config.terraform.url_output.strip()), "must not be empty"),
        ("max_previews", config.max_previews >= 0, "must be 0 (no cap) or a positive number"),
        (
            "cleanup.concurrency",
            MIN_CONCURRENCY <= config.cleanup.concurrency <= MAX_CONCURRENCY,
            f"must be between {MIN_CONCURRENCY} and {MAX_CONCURRENCY}",
        ),
        ("version", config.version == 1, "must be 1, the only format version this prenv reads"),
    ]
    sleep_after = config.cleanup.sleep_after
    if sleep_after is not None:
        checks += [
            ("cleanup.sleep_after", sleep_after > timedelta(0), "must be longer than 0 (or null: no sleep)"),
            (
                "cleanup.sleep_after",
                sleep_after < config.cleanup.max_age,
                f"({format_duration(sleep_after)}) must be shorter than cleanup.max_age "
                f"({format_duration(config.cleanup.max_age)}): a preview idle that long is warned and "
                "destroyed instead",
            ),
        ]
    if config.database.mode not in DATABASE_MODES:
        modes = "; ".join(f"{mode} ({what})" for mode, what in DATABASE_MODES.items())
        checks.append(("database.mode", False, f"must be one of {modes}, not {config.database.mode!r}"))
    for name in ("migrate", "seed", "pre_destroy"):
        command = getattr(config.hooks, name)
        checks.append(
            (f"hooks.{name}", not command or bool(command[0].strip()), "must start with the program to run")
        )
    checks += [
        ("readiness.timeout", config.readiness.timeout.total_seconds() > 0, "must be longer than 0s"),
        (
            "hooks.pre_destroy_timeout",
            config.hooks.pre_destroy_timeout.total_seconds() > 0,
            "must be longer than 0s",
        ),
    ]
    for key, ok, message in checks:
        if not ok:
            raise ValueError(key, f"{key} {message}")
    try:
        naming.check_workspace_pattern(config.workspace_pattern)
    except naming.NamingError as exc:
        raise ValueError("workspace_pattern", str(exc)) from None
    _validate_app(config)
    for pattern in config.comment.mask_patterns:
        try:
            mask.check_pattern(pattern)
        except mask.PatternError as exc:
            raise ValueError("comment.mask_patterns", f"comment.mask_patterns: {exc}") from None


_HEALTH_PATH = re.compile(r"^/[-A-Za-z0-9/._~%!$&'()*+,;=:@]*$")  # terraform/preview's own check
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_LIKE = re.compile(r"password|secret|token", re.IGNORECASE)


def _validate_app(config: Config) -> None:
    """app.*, and terraform.variables not repeating what app.* sets (one place for each setting)."""
    app = config.app
    if not contract.MIN_PORT <= app.port <= contract.MAX_PORT:
        raise ValueError(
            "app.port",
            f"app.port must be from {contract.MIN_PORT} to {contract.MAX_PORT}: the container runs as a "
            "non-root user, which cannot bind lower ports",
        )
    if not _HEALTH_PATH.match(app.health_path) or len(app.health_path) > 1024:
        raise ValueError(
            "app.health_path", "app.health_path must be a URL path starting with /, such as /healthz"
        )
    for name in app.environment:
        if not _VARIABLE_NAME.match(name):
            raise ValueError("app.environment", f"app.environment: {name!r} is not a variable name")
        if name in contract.PLATFORM_VARIABLES or name.startswith(contract.PLATFORM_PREFIX):
            raise ValueError(
                "app.environment",
                f"app.environment: {name} is set by the platform (the app contract, docs/local.md); "
                "remove it",
            )
        if _SECRET_LIKE.search(name):
            raise ValueError(
                "app.environment",
                f"app.environment: {name} looks like a secret; plain values end up in the task "
                "definition and Terraform's state, so secrets never go here",
            )
    for setting, variable in contract.ROOT_VARIABLES.items():
        if variable in config.terraform.variables:
            raise ValueError(
                f"terraform.variables.{variable}",
                f"terraform.variables.{variable}: set app.{setting} instead (prenv passes it to the root)",
            )


def _line_of(document: Any, dotted: str) -> int:
    node, line = document, getattr(document, "line", 1)
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            break
        line = getattr(node, "key_lines", {}).get(part, line)
        node = node[part]
    return line


def _too_large(path: str, data: bytes) -> ConfigError:
    line = data[:CONFIG_LIMIT_BYTES].count(b"\n") + 1
    return ConfigError(
        f"{path}:{line}: the file is larger than {CONFIG_LIMIT_BYTES // 1024} KiB, the most prenv reads",
        hint="a prenv.yml is a few kilobytes: move large values out of terraform.variables",
    )


def parse(text: str, path: str = str(DEFAULT_PATH)) -> Config:
    """Parse the text of a prenv.yml. Raises ConfigError naming `path`, the line and the key."""
    data = text.encode("utf-8")
    if len(data) > CONFIG_LIMIT_BYTES:
        raise _too_large(path, data)
    try:
        document = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except _Located as exc:
        raise ConfigError(f"{path}:{exc.line}: {exc.message}", hint=exc.hint) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise ConfigError(
            f"{where}: invalid YAML: {exc.problem or exc.context}", hint="fix the syntax"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}", hint="fix the syntax") from None
    if document is None:
        document = _Mapping()
        document.line, document.key_lines = 1, {}
    if not isinstance(document, dict):
        raise ConfigError(
            f"{path}:1: expected a mapping of settings at the top level, got {_describe(document)}"
        )
    try:
        config: Config = _build(Config, document)
        _validate(config)
    except _Located as exc:
        raise ConfigError(f"{path}:{exc.line}: {exc.message}", hint=exc.hint) from None
    except ValueError as exc:
        key, message = exc.args
        raise ConfigError(f"{path}:{_line_of(document, key)}: {message}") from None
    if not config.health_check.path:
        config = dataclasses.replace(
            config, health_check=dataclasses.replace(config.health_check, path=config.app.health_path)
        )
    return dataclasses.replace(config, path=path)


def load(path: Path | str | None = None) -> Config:
    """Read and parse the configuration file (default `.github/prenv.yml`)."""
    file = Path(path) if path is not None else DEFAULT_PATH
    try:
        with file.open("rb") as handle:
            data = handle.read(CONFIG_LIMIT_BYTES + 1)  # never more: a huge file is refused unread
        if len(data) > CONFIG_LIMIT_BYTES:
            raise _too_large(str(file), data)
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: configuration file not found",
            hint="create it (see docs/setup.md) or pass --config PATH",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read the configuration file: {exc}") from None
    return parse(text, str(file))
