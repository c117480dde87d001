"""Make moto behave as real AWS does where the preview stack depends on it.

Used only with the embedded emulator (`prenv sandbox` and the tests): `emulator.start_emulator()` applies
these changes in the process that runs moto, through moto's own configuration and patches of its
models, never through the process environment (which Terraform and every other child would inherit):

- AWS-managed IAM policies exist (the roots attach some);
- an ECS service runs its task (moto reports 0 running tasks unless told otherwise);
- each RDS instance gets its own resource id (moto 5.2 gives every instance the same one, and the AWS
  provider reads an `aws_db_instance` by it, so a second database made the first one's reads
  ambiguous).

The others fix places where moto 5.2 drops a setting the AWS provider sends and reads back; without
them the second plan of the full stack shows changes (and the ECS service even a replacement) although
nothing changed:

- ECS CreateService ignores `capacityProviderStrategy`, `enableExecuteCommand`,
  `enableECSManagedTags`, `healthCheckGracePeriodSeconds`, `deploymentConfiguration` (the circuit
  breaker) and `availabilityZoneRebalancing`, and reports launch type EC2 when a capacity provider
  strategy was given (AWS reports none).
- EC2 security group rules that reference another group lose their description.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

# Tasks an ECS service reports running (moto reads this setting when a service is created).
_ECS_RUNNING_TASKS = "1"

# CreateService request members moto drops, and the attribute its response serializer reads each from.
_ECS_SERVICE_FIELDS = {
    "capacityProviderStrategy": "capacity_provider_strategy",
    "enableExecuteCommand": "enable_execute_command",
    "enableECSManagedTags": "enable_ecs_managed_tags",
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "deploymentConfiguration": "deployment_configuration",
    "availabilityZoneRebalancing": "availability_zone_rebalancing",
}


def _keep_ecs_service_settings() -> None:
    from moto.ecs import responses

    response_class = responses.EC2ContainerServiceResponse
    if getattr(response_class.create_service, "_prenv_patched", False):
        return
    create = response_class.create_service

    def create_service(self: Any) -> Any:
        result = create(self)
        service = self.ecs_backend._get_service(
            self._get_param("cluster", "default"), self._get_param("serviceName")
        )
        for member, attribute in _ECS_SERVICE_FIELDS.items():
            value = self._get_param(member)
            if value is not None:
                setattr(service, attribute, value)
        if self._get_param("capacityProviderStrategy") and not self._get_param("launchType"):
            service.launch_type = None
            for deployment in service.deployments:
                deployment.pop("launchType", None)
                deployment["platformFamily"] = "FARGATE"
                deployment["capacityProviderStrategy"] = service.capacity_provider_strategy
        if getattr(service, "availability_zone_rebalancing", None) is None:
            service.availability_zone_rebalancing = "DISABLED"
        return result

    create_service._prenv_patched = True  # type: ignore[attr-defined]
    response_class.create_service = create_service  # type: ignore[method-assign]


def _keep_referenced_rule_descriptions() -> None:
    from moto.ec2.models import security_groups

    rule_class = security_groups.SecurityGroupRule
    if getattr(rule_class, "_prenv_patched", False):
        return

    def description(self: Any) -> str | None:
        found = self.ip_range.get("Description") or self.source_group.get("Description")
        return str(found) if found is not None else None

    rule_class.description = property(description)  # type: ignore[assignment,method-assign]
    rule_class._prenv_patched = True  # type: ignore[attr-defined]


def _load_managed_policies() -> None:
    from moto.core.config import default_user_config

    default_user_config["iam"]["load_aws_managed_policies"] = True


def _services_run_their_tasks() -> None:
    from moto.ecs import models

    original = models.getenv  # type: ignore[attr-defined]  # moto's `from os import getenv`
    if getattr(original, "_prenv_patched", False):
        return

    def getenv(key: str, default: Any = None) -> Any:
        return _ECS_RUNNING_TASKS if key == "MOTO_ECS_SERVICE_RUNNING" else original(key, default)

    getenv._prenv_patched = True  # type: ignore[attr-defined]
    models.getenv = getenv  # type: ignore[attr-defined]


def _unique_rds_resource_ids() -> None:
    """moto 5.2 gives every DB instance the resource id `db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U`.

    The AWS provider (v5) reads an `aws_db_instance` by that resource id, so a second database on one
    emulator makes the first one's reads ambiguous. Give each instance its own id, as RDS does.
    """
    from moto.rds import models

    if getattr(models.DBInstance.__init__, "_prenv_patched", False):
        return
    original = models.DBInstance.__init__
    alphabet = string.ascii_uppercase + string.digits

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.dbi_resource_id = "db-" + "".join(secrets.choice(alphabet) for _ in range(26))

    init._prenv_patched = True  # type: ignore[attr-defined]
    models.DBInstance.__init__ = init  # type: ignore[method-assign]


def apply() -> None:
    """Apply every fix (idempotent). Call in the process that runs the moto server."""
    _load_managed_policies()
    _services_run_their_tasks()
    _unique_rds_resource_ids()
    _keep_ecs_service_settings()
    _keep_referenced_rule_descriptions()
