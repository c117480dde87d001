"""Make moto behave as real AWS does where the preview stack depends on it.

Used only with the embedded emulator (`prenv sandbox` and the tests): `emulator.start_emulator()` applies
these changes in the process that runs moto, through moto's own configuration and patches of its
models, never through the process environment (which Terraform and every other child would inherit):

- AWS-managed IAM policies exist (the roots attach some);
- an ECS service runs its task (moto reports 0 running tasks unless told otherwise), and does what ECS
  does with them: it starts its tasks (moto starts none: getmoto/moto#6283), each with a container per
  container definition (the app running, its init steps exited 0), registers their addresses in its
  target groups (moto registers nothing; it calls every registered address healthy), rolls to a new
  task definition with one new deployment, and stops its tasks (deregistered, their network
  interfaces deleted) when scaled down or deleted;
- RunTask accepts a Fargate task definition whose containers set no memory of their own (only the
  task's, as Fargate allows and terraform/preview does; moto adds up the containers' and fails);
- ECS tasks stay in the state they were put in (moto moves a task towards STOPPED every time it is
  described, so a running service would show its tasks stopped);
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
from datetime import UTC, datetime
from typing import Any


def utcnow() -> datetime:
    return datetime.now(UTC)


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


def _ip(task: Any) -> str:
    return next(
        (
            str(detail["value"])
            for attachment in task.attachments
            for detail in attachment.get("details", [])
            if detail.get("name") == "privateIPv4Address"
        ),
        "",
    )


def _targets(backend: Any, service: Any, task: Any) -> list[tuple[Any, dict[str, Any]]]:
    """(target group model, target) for each of the service's load balancers the task is behind."""
    from moto.elbv2.models import elbv2_backends

    groups = elbv2_backends[backend.account_id][backend.region_name].target_groups
    address = _ip(task)
    found = []
    for balancer in service.load_balancers or []:
        group = groups.get(balancer.get("targetGroupArn", ""))
        if group is not None and address:
            found.append((group, {"Id": address, "Port": int(balancer.get("containerPort") or group.port)}))
    return found


def _place(backend: Any, service: Any, task: Any) -> None:
    """What ECS does once a service's task started: its containers' states, its targets registered."""
    from moto.ecs import models

    container_class: Any = models.Container  # moto's model; mypy sees its CloudFormation methods as abstract
    definition = backend.describe_task_definition(task.task_definition_arn)
    containers = []
    for spec in definition.container_definitions:
        container = container_class(definition)
        container.name, container.image = spec.get("name"), spec.get("image")
        essential = spec.get("essential", True)
        container.last_status = "RUNNING" if essential else "STOPPED"
        container.exitCode = None if essential else 0  # init steps ran and exited 0
        containers.append(container)
    task.containers = containers
    task.started_at = utcnow()
    for group, target in _targets(backend, service, task):
        group.register([target])


def _retire(backend: Any, service: Any, task: Any, reason: str) -> None:
    """What ECS does when it stops a service's task: deregister it, stop it, release its interface."""
    from moto.ec2.models import ec2_backends

    for group, target in _targets(backend, service, task):
        group.targets.pop(target["Id"], None)
    backend.stop_task(task.cluster_name, task.task_arn, reason)
    task.stop_code = "ServiceSchedulerInitiated"
    task.stopped_at = utcnow()
    for container in task.containers:
        container.last_status = "STOPPED"
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    for attachment in task.attachments:
        for detail in attachment.get("details", []):
            if detail.get("name") == "networkInterfaceId":
                ec2.enis.pop(detail["value"], None)


def _reconcile(backend: Any, service: Any) -> None:
    """Make the service's tasks what ECS would make them: `desired_count` tasks of its task definition."""
    group = f"service:{service.name}"
    tasks = backend.tasks.get(service.cluster_name, {})
    mine = [t for t in list(tasks.values()) if t.group == group and t.desired_status == "RUNNING"]
    wanted = service.desired_count if service.status == "ACTIVE" else 0
    current = [t for t in mine if t.task_definition_arn == service.task_definition][:wanted]
    for task in mine:
        if task not in current:
            _retire(backend, service, task, f"Scaling activity initiated by (service {service.name})")
    missing = wanted - len(current)
    if missing > 0 and service.task_definition:
        network = service.network_configuration or None
        started = backend.run_task(
            service.cluster_name,
            service.task_definition,
            missing,
            None,
            "ecs-svc",
            None,
            "FARGATE",
            network,
            group,
        )
        for task in started:
            _place(backend, service, task)
    service.running_count, service.pending_count = wanted, 0
    if service.deployments:
        deployment = service.deployments[0]
        if deployment.get("taskDefinition") != service.task_definition:
            deployment.update(id=f"ecs-svc/{secrets.randbelow(10**12)}", createdAt=utcnow())
        deployment.update(
            taskDefinition=service.task_definition,
            desiredCount=wanted,
            runningCount=wanted,
            pendingCount=0,
            rolloutState="COMPLETED",
            rolloutStateReason=f"ECS deployment {deployment['id']} completed.",
            updatedAt=utcnow(),
        )
        del service.deployments[1:]


def _fargate_memory_is_the_tasks() -> None:
    """moto sums each container's memory to place a task (EC2 placement) and fails on a container that
    sets none; on Fargate only the task's memory counts. Count a container without one as 0."""
    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend._calculate_task_resource_requirements
    if getattr(original, "_prenv_patched", False):
        return

    def requirements(task_definition: Any) -> Any:
        definitions = task_definition.container_definitions
        filled = [
            c if c.get("memory") or c.get("memoryReservation") or c.get("Memory") else {**c, "memory": 0}
            for c in definitions
        ]
        task_definition.container_definitions = filled
        try:
            return original(task_definition)
        finally:
            task_definition.container_definitions = definitions

    requirements._prenv_patched = True  # type: ignore[attr-defined]
    backend: Any = EC2ContainerServiceBackend  # a static method of moto's model, replaced
    backend._calculate_task_resource_requirements = staticmethod(requirements)


def _services_place_their_tasks() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.moto_api import state_manager

    # Tasks stay where they are put (a test may still set its own transition; unsetting it returns here).
    state_manager.register_default_transition("ecs::task", {"progression": "manual", "times": 10**9})
    backend_class = EC2ContainerServiceBackend
    if getattr(backend_class.create_service, "_prenv_patched", False):
        return
    create, update, delete = (
        backend_class.create_service,
        backend_class.update_service,
        backend_class.delete_service,
    )

    def create_service(self: Any, *args: Any, **kwargs: Any) -> Any:
        service = create(self, *args, **kwargs)
        _reconcile(self, service)
        return service

    def update_service(self: Any, *args: Any, **kwargs: Any) -> Any:
        service = update(self, *args, **kwargs)
        _reconcile(self, service)
        return service

    def delete_service(self: Any, *args: Any, **kwargs: Any) -> Any:
        service = delete(self, *args, **kwargs)
        _reconcile(self, service)
        return service

    for name, method in (
        ("create_service", create_service),
        ("update_service", update_service),
        ("delete_service", delete_service),
    ):
        method._prenv_patched = True  # type: ignore[attr-defined]
        setattr(backend_class, name, method)


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


def _network_interfaces_have_a_dns_name() -> None:
    """moto gives a network interface a private DNS name only in a VPC with DNS hostnames on, and its
    RunTask reads the name of every task's interface: in another VPC the task (and with it CreateService,
    which Terraform then retries for many minutes) fails with a 500. AWS names every interface
    (`ip-10-0-1-5.ec2.internal`); so does this, from the interface's address."""
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface
    from moto.ec2.utils import generate_dns_from_ip

    if getattr(NetworkInterface, "_prenv_dns_name", False):
        return

    def private_dns_name(self: Any) -> str:
        named = self.__dict__.get("private_dns_name")
        return str(named) if named else str(generate_dns_from_ip(self.private_ip_address))

    def set_private_dns_name(self: Any, value: str) -> None:
        self.__dict__["private_dns_name"] = value

    NetworkInterface.private_dns_name = property(private_dns_name, set_private_dns_name)  # type: ignore[assignment]
    NetworkInterface._prenv_dns_name = True  # type: ignore[attr-defined]


def apply() -> None:
    """Apply every fix (idempotent). Call in the process that runs the moto server."""
    _network_interfaces_have_a_dns_name()
    _load_managed_policies()
    _services_run_their_tasks()
    _fargate_memory_is_the_tasks()
    _services_place_their_tasks()
    _unique_rds_resource_ids()
    _keep_ecs_service_settings()
    _keep_referenced_rule_descriptions()
