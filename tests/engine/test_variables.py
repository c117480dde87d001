"""What prenv passes to a root: its own values and the app settings, only those the root declares."""

from __future__ import annotations

from prenv.core import config as config_mod
from prenv.core.naming import names_for
from prenv.engine.bundled import source
from prenv.engine.lifecycle import declared_variables, variables

CONFIG = """
backend: {bucket: b, region: us-east-1}
app:
  port: 3000
  health_path: /up
  environment: {LOG_LEVEL: debug}
terraform:
  variables: {cpu: 512}
"""


def test_the_app_settings_reach_the_shipped_root() -> None:
    config = config_mod.parse(CONFIG)
    names = names_for(12, "octo-org/shop")
    values = variables(config, names, head_sha="a" * 40, image="img:1", declared=declared_variables(source()))
    assert values == {
        "pr_number": 12,
        "workspace": "pr-12",
        "name_prefix": names.name_prefix,
        "repository": "octo-org/shop",
        "database_mode": "dedicated",
        "head_sha": "a" * 40,
        "image": "img:1",
        "container_port": 3000,
        "health_check_path": "/up",
        "environment": {"LOG_LEVEL": "debug"},
        "migrate_command": [],  # no hooks: the root's init steps get empty commands
        "seed_command": [],
        "cpu": 512,
    }


def test_a_custom_root_gets_only_what_it_declares() -> None:
    config = config_mod.parse(CONFIG)
    values = variables(
        config, names_for(12, "octo-org/shop"), head_sha="", image="", declared={"pr_number", "environment"}
    )
    assert values == {"pr_number": 12, "environment": {"LOG_LEVEL": "debug"}, "cpu": 512}
