"""Templates: a repository overrides any of them by name (`comment.templates`), falling back to prenv's
own for the rest; a broken override is a configuration error naming the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from prenv.core.domain import CommentState
from prenv.core.errors import ConfigError, ExitStatus, FailureReason
from prenv.render import markdown as render
from tests.golden import fixtures as fx
from tests.golden.markdown_check import problems

TEMPLATES = Path(render.__file__).parent / "templates"


def _write(base: Path, relative: str, text: str) -> None:
    path = base / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_every_state_and_the_summary_has_a_template() -> None:
    names = {path.name for path in TEMPLATES.glob("*.md.j2")}
    assert {f"{state}.md.j2" for state in CommentState} <= names
    assert "summary.md.j2" in names


def test_override_replaces_one_template_and_can_include_the_others(tmp_path: Path) -> None:
    _write(
        tmp_path,
        ".github/prenv/ready.md.j2",
        '## [Our preview]({{ url | url }})\n\nBy {{ ctx.title | untrusted }}\n\n{% include "_plan.md.j2" %}',
    )
    config = fx.config(templates={"ready": ".github/prenv/ready.md.j2"})
    ctx = fx.context(title=fx.INJECTION)
    text = render.comment("ready", ctx, config=config, deploy=fx.deploy(), template_dir=tmp_path)
    assert text.startswith("## [Our preview](https://pr-42.preview.example.com)\n")
    assert "<details><summary>Terraform plan (102 lines)</summary>" in text
    assert problems(text) == []
    # the other states still use prenv's templates
    deploying = render.comment("deploying", ctx, config=config, template_dir=tmp_path)
    assert deploying.startswith("### ⏳ Deploying the preview of PR #42")


def test_override_of_a_partial_applies_everywhere(tmp_path: Path) -> None:
    _write(tmp_path, "footer.j2", "_Brought to you by the platform team._\n")
    config = fx.config(templates={"_footer": "footer.j2"})
    for state in ("deploying", "destroyed", "idle_warning"):
        text = render.comment(state, fx.context(), config=config, destroy=fx.destroy(), template_dir=tmp_path)
        assert text.endswith("_Brought to you by the platform team._\n")


def test_override_of_the_job_summary_is_found_in_the_repository(tmp_path: Path) -> None:
    _write(tmp_path, "s.j2", "Summary {{ kind }} for #{{ ctx.pr_number }}\n")
    config = fx.config(templates={"summary": "s.j2"})
    text = render.job_summary(fx.context(), CommentState.DESTROYED, config=config, template_dir=tmp_path)
    assert text == "Summary destroyed for #42\n"
    # Not the working directory: without the repository, an override is a bug of the caller.
    with pytest.raises(ValueError, match="the caller must say where the repository is"):
        render.job_summary(fx.context(), CommentState.DESTROYED, config=config)


def test_an_edited_override_is_read_again(tmp_path: Path) -> None:
    import os

    config = fx.config(templates={"deploying": "d.j2"})
    _write(tmp_path, "d.j2", "first\n")
    assert render.comment("deploying", fx.context(), config=config, template_dir=tmp_path) == "first\n"
    _write(tmp_path, "d.j2", "second\n")
    os.utime(tmp_path / "d.j2", (1, 1))
    assert render.comment("deploying", fx.context(), config=config, template_dir=tmp_path) == "second\n"


def test_an_oversized_override_is_still_cut_to_the_limit(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "r.j2",
        "<details><summary>x</summary>\n\n```\n{% for i in range(50000) %}row {{ i }}\n{% endfor %}",
    )
    config = fx.config(templates={"ready": "r.j2"})
    text = render.comment(
        "ready", fx.context(), config=config, deploy=fx.deploy(), template_dir=tmp_path, limit=5000
    )
    assert len(text) <= 5000
    assert problems(text) == []


def test_secrets_are_redacted_from_overrides_too(tmp_path: Path) -> None:
    _write(tmp_path, "r.j2", "{% for o in outputs %}{{ o.name }}={{ o.value }} {% endfor %}{{ ctx.title }}\n")
    config = fx.config(templates={"ready": "r.j2"}, mask_patterns=["tok_[0-9]+"])
    ctx = fx.context(title=f"raw {fx.DB_PASSWORD} tok_123")
    text = render.comment("ready", ctx, config=config, deploy=fx.deploy(), template_dir=tmp_path)
    assert fx.DB_PASSWORD not in text
    assert "tok_123" not in text


@pytest.mark.parametrize(
    ("templates", "files", "message"),
    [
        ({"raedy": "x.j2"}, {}, r"comment\.templates\.raedy: no template is called 'raedy'"),
        ({"ready": "missing.j2"}, {}, r"comment\.templates\.ready: missing\.j2 does not exist"),
        (
            {"ready": "../outside.j2"},
            {},
            r"comment\.templates\.ready: \.\./outside\.j2 is outside the repository",
        ),
        ({"ready": "/etc/passwd"}, {}, r"comment\.templates\.ready: /etc/passwd is outside the repository"),
        (
            {"ready": "bad.j2"},
            {"bad.j2": "{% if %}"},
            r"the ready template cannot be rendered \(.*bad\.j2:1\)",
        ),
        (
            {"ready": "undef.j2"},
            {"undef.j2": "{{ nope }}"},
            r"the ready template cannot be rendered: 'nope' is undefined",
        ),
        (
            {"ready": "evil.j2"},
            {"evil.j2": "{{ ctx.__class__.__mro__ }}"},
            r"the ready template cannot be rendered: .*unsafe",
        ),
    ],
)
def test_broken_overrides_are_configuration_errors(
    tmp_path: Path, templates: dict[str, str], files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        _write(tmp_path, name, text)
    config = fx.config(templates=templates)
    with pytest.raises(ConfigError, match=message) as caught:
        render.comment("ready", fx.context(), config=config, deploy=fx.deploy(), template_dir=tmp_path)
    assert caught.value.reason == FailureReason.CONFIG_INVALID
    assert caught.value.exit_status == ExitStatus.USAGE
    assert caught.value.message.startswith(".github/prenv.yml: comment.templates")
    assert caught.value.hint
