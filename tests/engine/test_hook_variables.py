"""What prenv passes a root for the init steps (hooks.migrate, hooks.seed)."""

from __future__ import annotations

import pytest

from prenv.core.config import parse
from prenv.core.errors import ConfigError
from prenv.core.naming import names_for
from prenv.engine.lifecycle import hook_variables, variables

HOOKS = """
backend: {bucket: b, region: us-east-1}
hooks:
  migrate: [python, app.py, migrate]
  seed: [python, app.py, seed]
"""
DECLARED = {"pr_number", "migrate_command", "seed_command"}


def test_the_seed_is_passed_only_when_seeding_and_migrate_always() -> None:
    config = parse(HOOKS)
    assert hook_variables(config, seed=True, declared=DECLARED) == {
        "migrate_command": ["python", "app.py", "migrate"],
        "seed_command": ["python", "app.py", "seed"],
    }
    assert hook_variables(config, seed=False, declared=DECLARED) == {
        "migrate_command": ["python", "app.py", "migrate"],
        "seed_command": [],
    }


def test_without_hooks_a_root_that_takes_them_gets_empty_lists() -> None:
    config = parse("backend: {bucket: b, region: us-east-1}")
    assert hook_variables(config, seed=True, declared=DECLARED) == {"migrate_command": [], "seed_command": []}
    assert hook_variables(config, seed=True, declared={"pr_number"}) == {}  # a root without them: nothing
    assert hook_variables(config, seed=True, declared=None) == {}  # unreadable root, no hooks: nothing


def test_an_unreadable_root_gets_the_hooks_that_are_set() -> None:
    config = parse(HOOKS)
    assert hook_variables(config, seed=False, declared=None) == {
        "migrate_command": ["python", "app.py", "migrate"],
        "seed_command": [],
    }


def test_a_hook_the_root_does_not_declare_is_a_configuration_error() -> None:
    config = parse(HOOKS + "terraform:\n  root: infra\n", path="repo/.github/prenv.yml")
    with pytest.raises(ConfigError) as info:
        hook_variables(config, seed=False, declared={"pr_number", "seed_command"})
    assert info.value.one_line() == (
        "repo/.github/prenv.yml: hooks.migrate is set, but the Terraform root infra declares no "
        "variable 'migrate_command' to run it; use prenv's preview root, or declare `variable "
        '"migrate_command"` (a list of strings) in yours and run it before the app starts'
    )


def test_the_configs_own_variables_win() -> None:
    config = parse(HOOKS + "terraform:\n  variables: {migrate_command: [make, migrate]}\n")
    values = variables(config, names_for(3, "o/r"), head_sha="", image="", declared=DECLARED, seed=False)
    assert values["migrate_command"] == ["make", "migrate"]
    assert values["seed_command"] == []
