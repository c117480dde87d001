"""Loading the comment and summary templates: prenv's own, or the repository's overrides (sandboxed).

`config.comment.templates` maps a template name to a file of the repository; a ChoiceLoader tries those
first and falls back to `prenv/render/templates/`. Every filter a template may use is set here: values a
pull request can influence go through `untrusted`, `link_text`, `code`, `cell` or `url`. Jinja2 loads only
when something is rendered (a run with no comment and no job summary never needs it).

The repository's templates run in Jinja2's sandbox, bounded (`render`): no value or output larger than
TEMPLATE_OUTPUT_LIMIT (string and list arithmetic, format widths and filter arguments are checked before
they run), no lipsum, and at most TEMPLATE_SECONDS of running (checked on every line the template's own
code runs). Beyond a bound the template is `config-invalid`.
"""

from __future__ import annotations

import functools
import math
import re
import string
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from prenv.core import mask
from prenv.core.config import Config
from prenv.core.errors import ConfigError, PrenvError
from prenv.core.limits import TEMPLATE_OUTPUT_LIMIT, TEMPLATE_SECONDS
from prenv.core.mask import escape_untrusted

if TYPE_CHECKING:
    import jinja2

TEMPLATES = Path(__file__).resolve().parent / "templates"


def safe_url(value: str) -> str:
    """An http(s) URL that is safe as a Markdown link destination, or '' for anything else."""
    from urllib.parse import quote, urlsplit

    text = str(value).strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return quote(text, safe="/:?#@!$&'*+,;=%-._~")


def _num(value: int) -> str:
    return f"{value:,}"


def _known_templates() -> frozenset[str]:
    return frozenset(path.name.removesuffix(".md.j2") for path in TEMPLATES.glob("*.md.j2"))


def _overrides(paths: dict[str, Path]) -> jinja2.BaseLoader:
    """A loader of the repository's templates, by name (`ready` -> `ready.md.j2`)."""
    import jinja2

    class RepositoryTemplates(jinja2.BaseLoader):
        def get_source(
            self, environment: jinja2.Environment, template: str
        ) -> tuple[str, str, Callable[[], bool]]:
            path = paths.get(template.removesuffix(".md.j2"))
            if path is None:
                raise jinja2.TemplateNotFound(template)
            mtime = path.stat().st_mtime
            return path.read_text(encoding="utf-8"), str(path), lambda: path.stat().st_mtime == mtime

    return RepositoryTemplates()


def _override_paths(config: Config, base: Path) -> dict[str, Path]:
    known, paths = _known_templates(), {}
    root = base.resolve()
    for name, relative in sorted(config.comment.templates.items()):
        key = f"{config.path}: comment.templates.{name}"
        if name not in known:
            raise ConfigError(
                f"{key}: no template is called {name!r}", hint=f"use one of {', '.join(sorted(known))}"
            )
        path = (root / relative).resolve()
        if Path(relative).is_absolute() or not path.is_relative_to(root):
            raise ConfigError(f"{key}: {relative} is outside the repository", hint="give a path inside it")
        if not path.is_file():
            raise ConfigError(
                f"{key}: {relative} does not exist", hint="fix the path (relative to the repository)"
            )
        paths[name] = path
    return paths


# --- bounds for the repository's templates --------------------------------------------------------------

_PERCENT_SPEC = re.compile(r"%[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")
_WIDTH = re.compile(r"\d+")


def _refuse(what: str) -> Exception:
    from jinja2.exceptions import SecurityError

    return SecurityError(
        f"{what}: more than prenv lets a template make ({TEMPLATE_OUTPUT_LIMIT:,} characters)"
    )


def _check_length(length: int, what: str) -> None:
    if length > TEMPLATE_OUTPUT_LIMIT:
        raise _refuse(what)


def _check_size(value: Any, what: str) -> Any:
    if isinstance(value, str | list | tuple):
        _check_length(len(value), what)
    return value


def _check_widths(fmt: str) -> None:
    """Refuse a `%` or `str.format` format whose widths would make a huge string."""
    widths = [w for spec in _PERCENT_SPEC.finditer(fmt) for w in spec.groups() if w]
    try:
        specs = [spec or "" for _, _, spec, _ in string.Formatter().parse(fmt)]
    except ValueError:
        specs = []
    if any("{" in spec for spec in specs):
        raise _refuse("a format width taken from an argument")
    widths += [w for spec in specs for w in _WIDTH.findall(spec)]
    if "*" in widths or any(int(w) > TEMPLATE_OUTPUT_LIMIT for w in widths):
        raise _refuse("a format width")


def _check_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any], what: str) -> None:
    """Refuse a call whose numbers ask for more than the limit (center, indent, ljust, zfill, ...)."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and value > TEMPLATE_OUTPUT_LIMIT:
            raise _refuse(what)


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)  # keeps Jinja2's pass_context / pass_environment markers
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_arguments(args, kwargs, f"the {name} filter")
        values = [a for a in args if isinstance(a, str)]
        if name == "format" and values:
            _check_widths(values[0])
        if name == "replace" and len(values) >= 3:
            text, old, new = values[:3]
            if old and text.count(old) * len(new) + len(text) > TEMPLATE_OUTPUT_LIMIT:
                raise _refuse("the replace filter")
        return _check_size(function(*args, **kwargs), f"the {name} filter")

    return bounded


class _Deadline:
    """TEMPLATE_SECONDS for one rendering: checked on the lines of the repository's template code."""

    def __init__(self, files: frozenset[str]) -> None:
        self.files = files
        self.ends = time.monotonic() + TEMPLATE_SECONDS
        self.lines = 0

    def check(self) -> None:
        if time.monotonic() > self.ends:
            from jinja2.exceptions import SecurityError

            raise SecurityError(f"it ran longer than {TEMPLATE_SECONDS:g}s")

    def trace(self, frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        return self.line if frame.f_code.co_filename in self.files else None

    def line(self, frame: FrameType, event: str, arg: Any) -> Callable[..., Any]:
        self.lines += 1
        if not self.lines % 128:
            self.check()
        return self.line


def _bounded_sandbox() -> type[jinja2.Environment]:
    from jinja2.sandbox import SandboxedEnvironment

    class BoundedSandbox(SandboxedEnvironment):
        """Jinja2's sandbox with bounds on what a template can make (sizes) and do (calls)."""

        intercepted_binops = frozenset({"*", "**", "+", "%"})
        deadline: _Deadline | None = None

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "*":
                for sequence, times in ((left, right), (right, left)):
                    if isinstance(sequence, str | list | tuple) and isinstance(times, int):
                        _check_length(len(sequence) * times, "a repetition")
            elif operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
                if right * math.log2(abs(left)) > 64 * 1024:
                    raise _refuse("a power")
            elif operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, type(left)):
                _check_length(len(left) + len(right), "a concatenation")
            elif operator == "%" and isinstance(left, str):
                _check_widths(left)
            return super().call_binop(context, operator, left, right)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            if __self.deadline is not None:
                __self.deadline.check()
            _check_arguments(args, kwargs, "a call")
            return _check_size(super().call(__context, __obj, *args, **kwargs), "a call")

        def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
            owner = getattr(value, "__self__", None)
            if isinstance(owner, str) and getattr(value, "__name__", "") in ("format", "format_map"):
                _check_widths(owner)  # str.format is wrapped when it is looked up, not when called
            return super().wrap_str_format(value)

    return BoundedSandbox


def render(template: jinja2.Template, variables: Mapping[str, Any]) -> str:
    """`template` rendered with `variables`; a repository's template within its bounds (SecurityError)."""
    environment = template.environment
    if not getattr(environment, "intercepted_binops", None):  # prenv's own environment: trusted
        return template.render(**variables)
    files = frozenset(str(path) for path in getattr(environment, "override_files", ()))
    deadline = _Deadline(files)
    environment.deadline = deadline  # type: ignore[attr-defined]
    previous = sys.gettrace()
    sys.settrace(deadline.trace)
    try:
        parts: list[str] = []
        size = 0
        for chunk in template.generate(**variables):
            size += len(chunk)
            if size > TEMPLATE_OUTPUT_LIMIT:
                raise _refuse("its output")
            parts.append(chunk)
        return "".join(parts)
    except (MemoryError, RecursionError) as exc:
        from jinja2.exceptions import SecurityError

        raise SecurityError(
            f"it ran out of {'memory' if isinstance(exc, MemoryError) else 'stack'}"
        ) from None
    finally:
        sys.settrace(previous)
        environment.deadline = None  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=16)
def _environment(overrides: tuple[tuple[str, Path], ...]) -> jinja2.Environment:
    import jinja2

    # The repository's templates run sandboxed; prenv's own (trusted, and the benchmark's hot path) do not.
    loaders: list[jinja2.BaseLoader] = [_overrides(dict(overrides))] if overrides else []
    env = (_bounded_sandbox() if overrides else jinja2.Environment)(
        loader=jinja2.ChoiceLoader([*loaders, jinja2.FileSystemLoader(TEMPLATES)]),
        autoescape=False,  # Markdown: untrusted values go through the filters below instead
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        untrusted=escape_untrusted,
        link_text=mask.link_text,
        code=mask.inline_code,
        cell=lambda value: mask.inline_code(value, table=True),
        url=safe_url,
        num=_num,
    )
    if overrides:
        env.filters = {name: _bounded_filter(name, function) for name, function in env.filters.items()}
        env.globals.pop("lipsum", None)
        env.override_files = tuple(path for _, path in overrides)  # type: ignore[attr-defined]
    return env


def template(name: str, config: Config, template_dir: Path | None) -> jinja2.Template:
    """prenv's template `name`, or the repository's override; `template_dir` is the repository, where
    `comment.templates` paths are found (needed only when there are overrides)."""
    overrides: dict[str, Path] = {}
    if config.comment.templates:
        if template_dir is None:
            raise ValueError("comment.templates is set: the caller must say where the repository is")
        overrides = _override_paths(config, template_dir)
    import jinja2

    try:
        return _environment(tuple(sorted(overrides.items()))).get_template(f"{name}.md.j2")
    except jinja2.TemplateError as exc:
        raise template_error(config, name, exc) from None


def template_error(config: Config, name: str, exc: jinja2.TemplateError) -> PrenvError:
    import jinja2

    if not config.comment.templates:
        raise exc  # a bug in prenv's own templates
    where = f" ({exc.filename}:{exc.lineno})" if isinstance(exc, jinja2.TemplateSyntaxError) else ""
    message = (exc.message or str(exc)).rstrip(".")
    return ConfigError(
        f"{config.path}: comment.templates: the {name} template cannot be rendered{where}: {message}",
        hint="fix the template or remove the override",
    )
