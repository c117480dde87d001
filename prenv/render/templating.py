"""Loading the comment and summary templates: prenv's own, or the repository's overrides (sandboxed).

`config.comment.templates` maps a template name to a file of the repository; a ChoiceLoader tries those
first and falls back to `prenv/render/templates/`. Every filter a template may use is set here: values a
pull request can influence go through `untrusted`, `link_text`, `code`, `cell` or `url`. Jinja2 loads
only when something is rendered (a run with no comment and no job summary never needs it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from prenv.core import mask
from prenv.core.config import Config
from prenv.core.errors import ConfigError, PrenvError
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


@functools.lru_cache(maxsize=16)
def _environment(overrides: tuple[tuple[str, Path], ...]) -> jinja2.Environment:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    # The repository's templates run sandboxed; prenv's own (trusted, and the benchmark's hot path) do not.
    loaders: list[jinja2.BaseLoader] = [_overrides(dict(overrides))] if overrides else []
    env = (SandboxedEnvironment if overrides else jinja2.Environment)(
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
