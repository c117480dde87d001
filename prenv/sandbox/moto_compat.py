"""Make moto keep what real AWS keeps, so that `terraform/preview` plans no changes right after an apply.

Used only with the embedded emulator (`prenv sandbox` and the tests): `emulator.start_emulator()` applies
these patches in the process that runs moto. Each one fixes a place where moto 5.2 drops a setting the
AWS provider sends and reads back; without them the second plan of the full stack shows changes (and
the ECS service even a replacement) although nothing changed:

- ECS CreateService ignores `capacityProviderStrategy`, `enableExecuteCommand`,
  `enableECSManagedTags`, `healthCheckGracePeriodSeconds`, `deploymentConfiguration` (the circuit
  breaker) and `availabilityZoneRebalancing`, and reports launch type EC2 when a capacity provider
  strategy was given (AWS reports none).
- EC2 security group rules that reference another group lose their description.
"""

from __future__ import annotations

from typing import Any

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


def apply() -> None:
    """Apply every fix (idempotent). Call in the process that runs the moto server."""
    _keep_ecs_service_settings()
    _keep_referenced_rule_descriptions()
