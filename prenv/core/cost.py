"""What a preview and the base cost per day while running, from a plan JSON and prenv's price table (pure).

The input is `terraform show -json` of a saved plan; the figures come from the planned resources' own
attributes (task CPU and memory, desired count, capacity provider, instance class, storage, ...) and the
price table shipped with prenv (`prices.json` beside this module: one region, dated, each price with its
source). Nothing is guessed:

- a resource type the table cannot price, or one whose priced attribute is not known until apply, is
  listed as *not priced* with the reason;
- resources that cost nothing by themselves (IAM, security groups, target groups, listeners, ...) are
  listed as free;
- charges that depend on traffic or data (load balancer capacity units, log ingestion, NAT data, image
  storage) are listed as *usage* with their rate, and never enter the per-day figure;
- a price the table could not confirm (Fargate Spot) is priced at the upper bound the table names for
  it, and the line says so.

Shared parts live in the base (the load balancer, the NAT gateway, a shared database server): a
preview's estimate can carry the base's cost per day divided among the live previews, as its own line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from prenv.core.prices import HOURS_PER_DAY, PriceTable

DEFAULT_PROVIDER_NOTE = (
    "no capacity provider or launch type in the plan (the cluster's default): priced as Fargate on demand, "
    "an upper bound"
)
SPOT_NOTE = (
    "the Spot rate varies and is not in prenv's price table: priced at the on-demand rate, an upper bound "
    "(AWS quotes up to 70% less)"
)

# The attributes the estimate reads, per resource type ("block.key" keeps one key of each element of a
# nested block). tests/core trims its real plan fixtures to exactly these.
READS: Mapping[str, tuple[str, ...]] = {
    "aws_ecs_service": (
        "desired_count",
        "launch_type",
        "capacity_provider_strategy",
        "task_definition",
        "network_configuration.assign_public_ip",
    ),
    "aws_ecs_task_definition": (
        "family",
        "cpu",
        "memory",
        "runtime_platform",
        "ephemeral_storage",
    ),
    "aws_ecs_cluster": ("setting",),
    "aws_db_instance": (
        "engine",
        "instance_class",
        "multi_az",
        "allocated_storage",
        "storage_type",
        "manage_master_user_password",
    ),
    "aws_rds_cluster": (
        "cluster_identifier",
        "engine",
        "storage_type",
        "serverlessv2_scaling_configuration",
        "manage_master_user_password",
    ),
    "aws_rds_cluster_instance": ("cluster_identifier", "instance_class"),
    "aws_lb": ("load_balancer_type", "internal", "subnets", "subnet_mapping"),
    "aws_flow_log": ("log_destination_type",),
}

# Resource types that cost nothing by themselves (what they route or protect is priced where it runs).
FREE_TYPES = frozenset(
    {
        "aws_acm_certificate",  # public certificates carry no charge
        "aws_acm_certificate_validation",
        "aws_db_subnet_group",
        "aws_default_security_group",
        "aws_ecr_lifecycle_policy",
        "aws_ecs_cluster_capacity_providers",
        "aws_ecs_task_definition",  # its tasks are priced on the service that runs them
        "aws_iam_policy",
        "aws_iam_role",
        "aws_iam_role_policy",
        "aws_iam_role_policy_attachment",
        "aws_internet_gateway",
        "aws_lb_listener",
        "aws_lb_listener_rule",
        "aws_lb_target_group",
        "aws_route",
        "aws_route53_record",  # the zone is the user's own; alias queries to a load balancer are free
        "aws_route_table",
        "aws_route_table_association",
        "aws_secretsmanager_secret_version",
        "aws_security_group",
        "aws_security_group_rule",
        "aws_subnet",
        "aws_vpc",
        "aws_vpc_security_group_egress_rule",
        "aws_vpc_security_group_ingress_rule",
    }
)


# --- The estimate ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostLine:
    address: str
    what: str  # "Fargate Spot: 1 task of 0.25 vCPU and 0.5 GB (Linux/x86)"
    per_day: Decimal
    arithmetic: str  # "1 x (0.25 vCPU x $0.04048 + 0.5 GB x $0.004445) x 24 h"
    note: str = ""
    shared: bool = False  # a share of the base, not the preview's own resource
    # Billed only while the preview is awake: what prenv's sleep stops (the service's tasks and their
    # addresses, the hours of the preview's own RDS instance). Storage and secrets bill while it sleeps.
    sleeps: bool = False


@dataclass(frozen=True)
class UsageCharge:
    address: str
    what: str
    rate: str  # "$0.50 per GB ingested", or why it has none


@dataclass(frozen=True)
class NotPriced:
    address: str
    type: str
    reason: str


@dataclass(frozen=True)
class Estimate:
    region: str
    checked: str
    lines: tuple[CostLine, ...] = ()
    usage: tuple[UsageCharge, ...] = ()
    not_priced: tuple[NotPriced, ...] = ()
    free: tuple[str, ...] = ()  # addresses of resources that cost nothing by themselves

    @property
    def per_day(self) -> Decimal:
        return sum((line.per_day for line in self.lines), Decimal(0))

    @property
    def own_per_day(self) -> Decimal:
        return sum((line.per_day for line in self.lines if not line.shared), Decimal(0))

    @property
    def shared_per_day(self) -> Decimal:
        return sum((line.per_day for line in self.lines if line.shared), Decimal(0))

    @property
    def sleeping_saves_per_day(self) -> Decimal:
        """What sleep saves per day: the own lines that stop billing while the preview sleeps."""
        return sum((line.per_day for line in self.lines if line.sleeps and not line.shared), Decimal(0))


@dataclass(frozen=True)
class _Resource:
    address: str
    type: str
    values: Mapping[str, Any]
    unknown: Mapping[str, Any]

    def known(self, name: str) -> bool:
        return self.unknown.get(name) is not True and self.values.get(name) is not None


@dataclass
class _Builder:
    prices: PriceTable
    plan: Mapping[str, Any]
    resources: tuple[_Resource, ...]
    lines: list[CostLine] = field(default_factory=list)
    usage: list[UsageCharge] = field(default_factory=list)
    not_priced: list[NotPriced] = field(default_factory=list)
    free: list[str] = field(default_factory=list)

    def line(
        self,
        res: _Resource,
        what: str,
        per_day: Decimal,
        arithmetic: str,
        note: str = "",
        *,
        sleeps: bool = False,
    ) -> None:
        self.lines.append(CostLine(res.address, what, per_day, arithmetic, note, sleeps=sleeps))

    def unpriced(self, res: _Resource, reason: str) -> None:
        self.not_priced.append(NotPriced(res.address, res.type, reason))

    def use(self, res: _Resource, what: str, key: str, unit: str) -> None:
        rate = self.prices.rate(key)
        text = f"{usd(rate.usd, exact=True)} per {unit}" if rate else "rate not in prenv's price table"
        self.usage.append(UsageCharge(res.address, what, text))

    def use_unpriced(self, res: _Resource, what: str, why: str) -> None:
        self.usage.append(UsageCharge(res.address, what, why))

    def hourly(
        self,
        res: _Resource,
        what: str,
        key: str,
        count: Decimal = Decimal(1),
        unit: str = "",
        *,
        sleeps: bool = False,
    ) -> None:
        self._priced(res, what, key, count, unit, monthly=False, sleeps=sleeps)

    def monthly(
        self, res: _Resource, what: str, key: str, count: Decimal = Decimal(1), unit: str = ""
    ) -> None:
        self._priced(res, what, key, count, unit, monthly=True)

    def _priced(
        self,
        res: _Resource,
        what: str,
        key: str,
        count: Decimal,
        unit: str,
        *,
        monthly: bool,
        sleeps: bool = False,
    ) -> None:
        rate = self.prices.rate(key)
        if rate is None:
            self.unpriced(res, f"{what}: no confirmed price ({key}) in prenv's price table")
            return
        arithmetic = f"{num(count)} {unit} x " if unit else ""
        arithmetic += f"{usd(rate.usd, exact=True)} x 24 h"
        cost = count * rate.usd * HOURS_PER_DAY
        if monthly:  # a per-month price: x 24 h / the hours in a month
            arithmetic += f" / {num(self.prices.hours_per_month)} h"
            cost = self.prices.per_day_of_month(count * rate.usd)
        self.line(res, what, cost, arithmetic, rate.note, sleeps=sleeps)

    def build(self) -> Estimate:
        return Estimate(
            region=self.prices.region,
            checked=self.prices.checked,
            lines=tuple(self.lines),
            usage=tuple(self.usage),
            not_priced=tuple(self.not_priced),
            free=tuple(self.free),
        )


def estimate(plan: Mapping[str, Any], prices: PriceTable, *, side: str = "after") -> Estimate:
    """The cost per day of what `plan` leaves running ("after") or of what it started from ("before")."""
    if side not in ("after", "before"):
        raise ValueError(f"side must be 'after' or 'before', not {side!r}")
    builder = _Builder(prices, plan, tuple(_resources(plan, side)))
    for res in builder.resources:
        handler = _HANDLERS.get(res.type)
        if handler is not None:
            handler(builder, res)
        elif res.type in FREE_TYPES:
            builder.free.append(res.address)
        else:
            builder.unpriced(res, f"no price for {res.type} in prenv's price table")
    return builder.build()


def estimate_preview(
    plan: Mapping[str, Any],
    prices: PriceTable,
    *,
    base: Estimate | None = None,
    live_previews: int = 1,
    side: str = "after",
) -> Estimate:
    """A preview's estimate; with `base`, plus its share: the base's cost per day / `live_previews`."""
    own = estimate(plan, prices, side=side)
    if base is None:
        return own
    return Estimate(
        region=own.region,
        checked=own.checked,
        lines=(*own.lines, share_of_base(base, live_previews)),
        usage=own.usage,
        not_priced=own.not_priced,
        free=own.free,
    )


@dataclass(frozen=True)
class PlanCost:
    """What a plan leaves running (`after`) and what it started from (`before`), per day."""

    after: Estimate
    before: Estimate

    @property
    def existed(self) -> bool:
        """The preview had resources before this plan (a redeploy, not a first deploy)."""
        before = self.before
        return bool(before.lines or before.usage or before.not_priced or before.free)

    @property
    def change(self) -> Decimal:
        """How much the plan changes the preview's own cost per day (0 for a first deploy)."""
        return self.after.own_per_day - self.before.own_per_day if self.existed else Decimal(0)


def plan_cost(plan: Mapping[str, Any], prices: PriceTable) -> PlanCost:
    """Both sides of a plan, priced."""
    return PlanCost(after=estimate(plan, prices), before=estimate(plan, prices, side="before"))


def as_plan(resources: Sequence[tuple[str, str, Mapping[str, Any]]]) -> dict[str, Any]:
    """Resources found running in AWS, (address, type, attributes), as a plan that keeps them: so the
    estimate prices them with the same rules as a plan's (the base's share, found at deploy time)."""
    return {
        "resource_changes": [
            {
                "address": address,
                "mode": "managed",
                "type": rtype,
                "change": {"actions": ["no-op"], "before": dict(values), "after": dict(values)},
            }
            for address, rtype, values in resources
        ]
    }


def labels(result: Estimate) -> list[str]:
    """What an estimate's own lines price, in short: each line's label (its text before any colon), once."""
    return list(dict.fromkeys(line.what.split(":")[0] for line in result.lines if not line.shared))


def share_of_base(base: Estimate, live_previews: int) -> CostLine:
    """One preview's share of the base: the base's cost per day divided among the live previews."""
    if isinstance(live_previews, bool) or not isinstance(live_previews, int) or live_previews < 1:
        raise ValueError(
            f"live_previews must be a whole number of at least 1 (this preview), not {live_previews!r}"
        )
    parts = ", ".join(labels(base))
    previews = "preview" if live_previews == 1 else "live previews"
    note = "shared by every live preview of the repository"
    if base.not_priced:
        note += f"; the base also has {len(base.not_priced)} item(s) not priced"
    return CostLine(
        address="(base)",
        what=f"share of the base ({parts or 'nothing priced'})",
        per_day=base.per_day / live_previews,
        arithmetic=f"{usd(base.per_day)}/day / {live_previews} {previews}",
        note=note,
        shared=True,
    )


def _resources(plan: Mapping[str, Any], side: str) -> Iterator[_Resource]:
    for rc in plan.get("resource_changes") or []:
        if not isinstance(rc, Mapping) or rc.get("mode", "managed") != "managed":
            continue
        change = rc.get("change") or {}
        values = change.get(side)
        if not isinstance(values, Mapping):
            continue  # created (nothing before) or destroyed (nothing after)
        unknown = change.get("after_unknown") if side == "after" else None
        yield _Resource(
            str(rc.get("address", "")),
            str(rc.get("type", "")),
            values,
            unknown if isinstance(unknown, Mapping) else {},
        )


# --- References between resources (for values Terraform knows only after apply) -----------------------

_INDEX = re.compile(r"\[[^\]]*\]")


def _config_address(address: str) -> str:
    return _INDEX.sub("", address)


def _references(plan: Mapping[str, Any], address: str, attribute: str) -> tuple[str, ...]:
    """Configuration addresses (type.name, module prefix kept) that `address`'s `attribute` refers to."""
    wanted = _config_address(address)
    root = (plan.get("configuration") or {}).get("root_module") or {}
    for prefix, module in _modules(root, ""):
        for resource in module.get("resources") or []:
            if f"{prefix}{resource.get('address', '')}" != wanted:
                continue
            expression = (resource.get("expressions") or {}).get(attribute)
            refs = expression.get("references") if isinstance(expression, Mapping) else None
            found = []
            for ref in refs or []:
                parts = _config_address(str(ref)).split(".")
                if len(parts) >= 2 and parts[0].startswith("aws_"):
                    found.append(f"{prefix}{parts[0]}.{parts[1]}")
            return tuple(dict.fromkeys(found))
    return ()


def _modules(module: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield prefix, module
    for name, call in (module.get("module_calls") or {}).items():
        yield from _modules(call.get("module") or {}, f"{prefix}module.{name}.")


def _referenced(builder: _Builder, res: _Resource, attribute: str, rtype: str) -> list[_Resource]:
    refs = set(_references(builder.plan, res.address, attribute))
    return [r for r in builder.resources if r.type == rtype and _config_address(r.address) in refs]


def _only(builder: _Builder, rtype: str) -> _Resource | None:
    found = [r for r in builder.resources if r.type == rtype]
    return found[0] if len(found) == 1 else None


# --- Per resource type -------------------------------------------------------------------------------


def _ecs_service(b: _Builder, res: _Resource) -> None:
    task = _task_definition(b, res)
    if task is None:
        b.unpriced(res, "its task definition is not in the plan, so its CPU and memory are unknown")
        return
    if not (res.known("desired_count") and task.known("cpu") and task.known("memory")):
        b.unpriced(res, "desired count, CPU or memory not known until apply")
        return
    platform = _first(task.values.get("runtime_platform"))
    system = str(platform.get("operating_system_family") or "LINUX")
    arch = str(platform.get("cpu_architecture") or "X86_64")
    if system != "LINUX":
        b.unpriced(res, f"Fargate on {system} is not in prenv's price table (Linux only)")
        return
    if arch not in ("X86_64", "ARM64"):
        b.unpriced(res, f"CPU architecture {arch} is not in prenv's price table")
        return
    storage = _first(task.values.get("ephemeral_storage")).get("size_in_gib")
    if storage is not None and int(storage) > 20:
        b.unpriced(
            res, f"ephemeral storage beyond the included 20 GiB ({storage} GiB) is not in prenv's price table"
        )
    units, mib = _number(task.values["cpu"]), _number(task.values["memory"])
    if units is None or mib is None:
        b.unpriced(
            res, f"task CPU {task.values['cpu']!r} or memory {task.values['memory']!r} is not a number"
        )
        return
    vcpu, gb = units / 1024, mib / 1024
    tasks = Decimal(int(res.values["desired_count"]))
    if not tasks:
        b.line(res, "ECS service scaled to zero: no tasks", Decimal(0), "0 tasks", sleeps=True)
        return
    platform_key, platform_name = (
        ("linux_arm64", "Linux/ARM") if arch == "ARM64" else ("linux_x86", "Linux/x86")
    )
    for provider, count, note in _split(res, tasks):
        if provider not in ("FARGATE", "FARGATE_SPOT"):
            b.unpriced(
                res, f"capacity provider {provider} is not Fargate: its EC2 capacity is priced elsewhere"
            )
            continue
        group = "fargate_spot" if provider == "FARGATE_SPOT" else "fargate"
        cpu_rate = b.prices.rate(f"{group}/{platform_key}/vcpu_hour")
        gb_rate = b.prices.rate(f"{group}/{platform_key}/gb_hour")
        if cpu_rate is None or gb_rate is None:
            b.unpriced(res, f"no confirmed {provider} price for {platform_name} in prenv's price table")
            continue
        name = "Fargate Spot" if provider == "FARGATE_SPOT" else "Fargate"
        plural = "task" if count == 1 else "tasks"
        bounded = cpu_rate.note or gb_rate.note
        if bounded and provider == "FARGATE_SPOT":
            bounded = SPOT_NOTE
        b.line(
            res,
            f"{name}: {num(count)} {plural} of {num(vcpu)} vCPU and {num(gb)} GB ({platform_name})",
            count * (vcpu * cpu_rate.usd + gb * gb_rate.usd) * HOURS_PER_DAY,
            f"{num(count)} x ({num(vcpu)} vCPU x {usd(cpu_rate.usd, exact=True)} + {num(gb)} GB x "
            f"{usd(gb_rate.usd, exact=True)}) x 24 h",
            "; ".join(n for n in (note, bounded) if n),
            sleeps=True,
        )
    network = _first(res.values.get("network_configuration"))
    if network.get("assign_public_ip") is True:
        b.hourly(res, "public IPv4: one per task", "public_ipv4/hour", tasks, "addresses", sleeps=True)


def _task_definition(b: _Builder, service: _Resource) -> _Resource | None:
    if service.known("task_definition"):
        family = str(service.values["task_definition"]).rsplit("/", 1)[-1].split(":")[0]
        for r in b.resources:
            if r.type == "aws_ecs_task_definition" and r.values.get("family") == family:
                return r
        return None  # a task definition made outside this plan
    found = _referenced(b, service, "task_definition", "aws_ecs_task_definition")
    if len(found) == 1:
        return found[0]
    return _only(b, "aws_ecs_task_definition") if not found else None


def _split(service: _Resource, tasks: Decimal) -> list[tuple[str, Decimal, str]]:
    """The tasks per capacity provider: each provider's base first, the rest in proportion to weight."""
    strategy = [s for s in service.values.get("capacity_provider_strategy") or [] if isinstance(s, Mapping)]
    if not strategy:
        launch = service.values.get("launch_type")
        if launch in (None, ""):
            return [("FARGATE", tasks, DEFAULT_PROVIDER_NOTE)]
        return [(str(launch), tasks, "")]
    left = tasks
    counts: dict[str, Decimal] = {}
    for step in strategy:
        base = min(Decimal(int(step.get("base") or 0)), left)
        counts[str(step["capacity_provider"])] = base
        left -= base
    weights = {str(s["capacity_provider"]): Decimal(int(s.get("weight") or 0)) for s in strategy}
    total = sum(weights.values(), Decimal(0))
    for provider, weight in weights.items():
        if total:
            counts[provider] += left * weight / total
    return [(provider, count, "") for provider, count in counts.items() if count]


def _db_instance(b: _Builder, res: _Resource) -> None:
    engine = res.values.get("engine")
    if engine != "postgres":
        b.unpriced(res, f"engine {engine} is not in prenv's price table (RDS for PostgreSQL only)")
        return
    if res.values.get("multi_az") is True:
        b.unpriced(res, "Multi-AZ is not in prenv's price table (Single-AZ only)")
        return
    if not res.known("instance_class"):
        b.unpriced(res, "instance class not known until apply")
    else:
        cls = str(res.values["instance_class"])
        key = f"rds_postgres_single_az/instance_hour/{cls}"
        if b.prices.rate(key) is None:
            b.unpriced(
                res, f"instance class {cls} is not in prenv's price table (add it to prenv/core/prices.json)"
            )
        else:
            b.hourly(res, f"RDS PostgreSQL: {cls}, Single-AZ", key, sleeps=True)
    storage_type = res.values.get("storage_type")
    if not (res.known("allocated_storage") and res.known("storage_type")):
        b.unpriced(res, "storage size or type not known until apply")
    elif b.prices.rate(f"rds_postgres_single_az/storage_gb_month/{storage_type}") is None:
        b.unpriced(res, f"storage type {storage_type} is not in prenv's price table (gp2 and gp3 only)")
    else:
        size = Decimal(int(res.values["allocated_storage"]))
        key = f"rds_postgres_single_az/storage_gb_month/{storage_type}"
        b.monthly(res, f"RDS storage: {num(size)} GB {storage_type}", key, size, "GB")
    _managed_secret(b, res)


def _managed_secret(b: _Builder, res: _Resource) -> None:
    if res.values.get("manage_master_user_password") is True:
        b.monthly(
            res, "Secrets Manager: the master password secret RDS manages", "secrets_manager/secret_month"
        )


def _rds_cluster(b: _Builder, res: _Resource) -> None:
    engine = res.values.get("engine")
    if engine != "aurora-postgresql":
        b.unpriced(res, f"engine {engine} is not in prenv's price table (Aurora PostgreSQL only)")
        return
    if res.values.get("storage_type") not in (None, "", "aurora"):
        b.unpriced(
            res,
            f"storage configuration {res.values['storage_type']} is not in prenv's price table "
            "(Aurora Standard only)",
        )
        return
    b.use(res, "Aurora storage", "aurora_postgres/storage_gb_month", "GB-month")
    b.use(res, "Aurora I/O", "aurora_postgres/io_million_requests", "million requests")
    _managed_secret(b, res)


def _rds_cluster_instance(b: _Builder, res: _Resource) -> None:
    if not res.known("instance_class"):
        b.unpriced(res, "instance class not known until apply")
        return
    cls = str(res.values["instance_class"])
    if cls != "db.serverless":
        b.unpriced(res, f"Aurora instance class {cls} is not in prenv's price table (Serverless v2 only)")
        return
    cluster = _cluster_of(b, res)
    scaling = _first(cluster.values.get("serverlessv2_scaling_configuration")) if cluster else {}
    if cluster is None or scaling.get("min_capacity") is None:
        b.unpriced(res, "its cluster's Serverless v2 minimum capacity is not in the plan")
        return
    if cluster.values.get("engine") != "aurora-postgresql":
        b.unpriced(
            res,
            f"engine {cluster.values.get('engine')} is not in prenv's price table (Aurora PostgreSQL only)",
        )
        return
    minimum = Decimal(str(scaling["min_capacity"]))
    note = "at least: capacity above the minimum is billed per ACU-second as load needs it"
    if minimum == 0:
        note = "0 while paused (the minimum is 0 ACU); billed per ACU-second from the first connection"
    rate = b.prices.rate("aurora_postgres/serverless_v2_acu_hour")
    if rate is None:
        b.unpriced(res, "no confirmed Aurora Serverless v2 price in prenv's price table")
        return
    b.line(
        res,
        f"Aurora Serverless v2: {num(minimum)} ACU, its minimum",
        minimum * rate.usd * HOURS_PER_DAY,
        f"{num(minimum)} ACU x {usd(rate.usd, exact=True)} x 24 h",
        note,
    )


def _cluster_of(b: _Builder, instance: _Resource) -> _Resource | None:
    clusters = [r for r in b.resources if r.type == "aws_rds_cluster"]
    if instance.known("cluster_identifier"):
        named = [
            c for c in clusters if c.values.get("cluster_identifier") == instance.values["cluster_identifier"]
        ]
        if named:
            return named[0]
    found = _referenced(b, instance, "cluster_identifier", "aws_rds_cluster")
    if len(found) == 1:
        return found[0]
    return clusters[0] if len(clusters) == 1 and not found else None


def _lb(b: _Builder, res: _Resource) -> None:
    kind = res.values.get("load_balancer_type") or "application"
    if kind != "application":
        b.unpriced(
            res, f"a {kind} load balancer is not in prenv's price table (Application Load Balancer only)"
        )
        return
    b.hourly(res, "Application Load Balancer", "alb/hour")
    b.use(res, "load balancer capacity units", "alb/lcu_hour", "LCU-hour")
    if res.values.get("internal") is True:
        return
    zones, how = _zones(b, res)
    b.hourly(res, f"public IPv4: one per zone ({how})", "public_ipv4/hour", Decimal(zones), "addresses")


def _zones(b: _Builder, res: _Resource) -> tuple[int, str]:
    for name in ("subnets", "subnet_mapping"):
        value = res.values.get(name)
        if isinstance(value, list) and value and res.unknown.get(name) is not True:
            return len(value), f"{len(value)} subnets"
    for name in ("subnets", "subnet_mapping"):
        refs = set(_references(b.plan, res.address, name))
        subnets = [r for r in b.resources if r.type == "aws_subnet" and _config_address(r.address) in refs]
        if subnets:
            return len(subnets), f"{len(subnets)} subnets"
    return 2, "at least 2: the subnets are not known until apply, and an ALB spans two zones or more"


def _nat_gateway(b: _Builder, res: _Resource) -> None:
    b.hourly(res, "NAT gateway", "nat_gateway/hour")
    b.use(res, "NAT gateway data processed", "nat_gateway/gb_processed", "GB")


def _eip(b: _Builder, res: _Resource) -> None:
    b.hourly(res, "public IPv4: an Elastic IP", "public_ipv4/hour")


def _secret(b: _Builder, res: _Resource) -> None:
    b.monthly(res, "Secrets Manager: a secret", "secrets_manager/secret_month")


def _log_group(b: _Builder, res: _Resource) -> None:
    b.use(res, "CloudWatch Logs ingestion", "cloudwatch_logs/ingest_gb", "GB")
    b.use(res, "CloudWatch Logs storage", "cloudwatch_logs/storage_gb_month", "GB-month")


def _flow_log(b: _Builder, res: _Resource) -> None:
    if res.values.get("log_destination_type") in (None, "cloud-watch-logs"):
        b.use(res, "flow log delivery to CloudWatch Logs", "cloudwatch_logs/vended_ingest_gb", "GB")
    else:
        destination = res.values["log_destination_type"]
        b.use_unpriced(res, f"flow log delivery to {destination}", "rate not in prenv's price table")


def _ecr_repository(b: _Builder, res: _Resource) -> None:
    b.use(res, "ECR image storage", "ecr/storage_gb_month", "GB-month")


def _ecs_cluster(b: _Builder, res: _Resource) -> None:
    settings = [s for s in res.values.get("setting") or [] if isinstance(s, Mapping)]
    insights = any(s.get("name") == "containerInsights" and s.get("value") != "disabled" for s in settings)
    if insights:
        b.use_unpriced(
            res,
            "Container Insights metrics and performance logs, per task",
            "CloudWatch metric and log rates; not in prenv's price table",
        )
    else:
        b.free.append(res.address)


_HANDLERS = {
    "aws_ecs_service": _ecs_service,
    "aws_ecs_cluster": _ecs_cluster,
    "aws_db_instance": _db_instance,
    "aws_rds_cluster": _rds_cluster,
    "aws_rds_cluster_instance": _rds_cluster_instance,
    "aws_lb": _lb,
    "aws_nat_gateway": _nat_gateway,
    "aws_eip": _eip,
    "aws_secretsmanager_secret": _secret,
    "aws_cloudwatch_log_group": _log_group,
    "aws_flow_log": _flow_log,
    "aws_ecr_repository": _ecr_repository,
}


def _number(value: Any) -> Decimal | None:
    """CPU units or MiB as the task definition gives them ("256"), or None if they are not a number."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _first(value: Any) -> Mapping[str, Any]:
    if isinstance(value, Sequence) and not isinstance(value, str) and value and isinstance(value[0], Mapping):
        return value[0]
    return {}


# --- Formatting --------------------------------------------------------------------------------------

CENT = Decimal("0.01")


def num(value: Decimal) -> str:
    """A quantity without trailing zeros: 0.25, 0.5, 20."""
    return format(value.normalize(), "f")


def usd(amount: Decimal, *, exact: bool = False) -> str:
    """$0.77 (rounded half up to the cent), or with `exact` a rate as it is ($0.004445, $0.50)."""
    if exact and amount != amount.quantize(CENT):
        return f"${num(amount)}"
    return f"${amount.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


def per_day(amount: Decimal) -> str:
    """The "$x.xx/day" form of a cost per day."""
    return f"{usd(amount)}/day"


def summary_lines(estimate: Estimate) -> list[str]:
    """Plain-text lines: the total, one line per priced item with its arithmetic, usage, not priced."""
    prices = f"{estimate.region} list prices checked {estimate.checked}"
    lines = [f"{per_day(estimate.per_day)} while running ({prices})"]
    for item in estimate.lines:
        note = f" ({item.note})" if item.note else ""
        lines.append(f"  {per_day(item.per_day)}  {item.address}: {item.what} = {item.arithmetic}{note}")
    for charge in estimate.usage:
        lines.append(f"  usage, not in the figure: {charge.address}: {charge.what}, {charge.rate}")
    for unpriced in estimate.not_priced:
        lines.append(f"  not priced: {unpriced.address}: {unpriced.reason}")
    return lines
