"""`terraform show -json <plan>` -> a summary of the changes, and `terraform plan`'s output -> the
human-readable plan (pure).

Counts follow Terraform's own "Plan: X to add, Y to change, Z to destroy" (a replacement counts as one
add and one destroy) and add the counts Terraform prints separately: replacements, imports and moves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Resource types whose destruction loses data: flagged loudly when a plan deletes or replaces them.
STATEFUL_TYPES = frozenset(
    {
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_rds_cluster_instance",
        "aws_db_snapshot",
        "aws_dynamodb_table",
        "aws_s3_bucket",
        "aws_efs_file_system",
        "aws_ebs_volume",
        "aws_elasticache_cluster",
        "aws_elasticache_replication_group",
        "aws_opensearch_domain",
        "aws_elasticsearch_domain",
        "aws_docdb_cluster",
        "aws_neptune_cluster",
        "aws_redshift_cluster",
        "aws_secretsmanager_secret",
        "aws_kms_key",
        "aws_ecr_repository",
        "aws_backup_vault",
        "aws_cloudwatch_log_group",
        "aws_sqs_queue",
        "aws_kinesis_stream",
        "aws_msk_cluster",
    }
)

ACTION_ORDER = ("replace", "delete", "update", "create", "import", "move", "read")


@dataclass(frozen=True)
class ResourceChange:
    address: str
    type: str
    name: str
    action: str  # create, update, delete, replace, read, import, move (no-op moves and imports only)
    mode: str = "managed"
    module: str = ""
    importing: bool = False
    previous_address: str = ""
    replace_reasons: tuple[str, ...] = ()

    @property
    def stateful(self) -> bool:
        return self.type in STATEFUL_TYPES

    @property
    def risky(self) -> bool:
        return self.action in ("delete", "replace")


@dataclass(frozen=True)
class OutputChange:
    name: str
    action: str
    sensitive: bool


@dataclass(frozen=True)
class PlanSummary:
    add: int = 0
    change: int = 0
    destroy: int = 0
    replace: int = 0
    import_: int = 0
    move: int = 0
    read: int = 0
    changes: tuple[ResourceChange, ...] = ()
    outputs: tuple[OutputChange, ...] = ()
    terraform_version: str = ""
    errored: bool = False
    drift: int = 0
    extras: Mapping[str, Any] = field(default_factory=dict)

    @property
    def has_changes(self) -> bool:
        return bool(self.add or self.change or self.destroy or self.import_ or self.move or self.outputs)

    @property
    def risky(self) -> tuple[ResourceChange, ...]:
        """Every replace or destroy, stateful resources first, then by address."""
        return tuple(sorted((c for c in self.changes if c.risky), key=lambda c: (not c.stateful, c.address)))

    def line(self) -> str:
        """The one-line summary: `2 to add, 1 to change, 0 to destroy` (+ replace/import/move when any)."""
        parts = [f"{self.add} to add", f"{self.change} to change", f"{self.destroy} to destroy"]
        if self.replace:
            parts.append(f"{self.replace} to replace")
        if self.import_:
            parts.append(f"{self.import_} to import")
        if self.move:
            parts.append(f"{self.move} to move")
        return ", ".join(parts)

    def counts(self) -> dict[str, int]:
        return {
            "add": self.add,
            "change": self.change,
            "destroy": self.destroy,
            "replace": self.replace,
            "import": self.import_,
            "move": self.move,
        }


def _action(actions: Iterable[str]) -> str:
    acts = tuple(actions)
    if acts in (("delete", "create"), ("create", "delete")):
        return "replace"
    if len(acts) == 1:
        return {
            "no-op": "no-op",
            "create": "create",
            "update": "update",
            "delete": "delete",
            "read": "read",
            "forget": "forget",
        }.get(acts[0], acts[0])
    return "+".join(acts)


def summarize(plan: Mapping[str, Any]) -> PlanSummary:
    """Summarize a `terraform show -json` plan document."""
    add = change = destroy = replace = imports = moves = reads = 0
    changes: list[ResourceChange] = []
    for rc in plan.get("resource_changes") or []:
        change_doc = rc.get("change") or {}
        action = _action(change_doc.get("actions") or ["no-op"])
        importing = bool(change_doc.get("importing"))
        previous = str(rc.get("previous_address") or "")
        moved = bool(previous) and previous != rc.get("address")
        if action == "create":
            add += 1
        elif action == "update":
            change += 1
        elif action == "delete":
            destroy += 1
        elif action == "replace":
            add += 1
            destroy += 1
            replace += 1
        elif action == "read":
            reads += 1
        imports += importing
        moves += moved
        shown = action
        if action == "no-op":
            if not (importing or moved):
                continue
            shown = "import" if importing else "move"
        if action == "read":
            continue
        changes.append(
            ResourceChange(
                address=str(rc.get("address", "")),
                type=str(rc.get("type", "")),
                name=str(rc.get("name", "")),
                action=shown,
                mode=str(rc.get("mode", "managed")),
                module=str(rc.get("module_address", "")),
                importing=importing,
                previous_address=previous if moved else "",
                replace_reasons=tuple(
                    "/".join(str(step) for step in path) if isinstance(path, list) else str(path)
                    for path in (rc.get("replace_paths") or [])
                ),
            )
        )
    outputs = tuple(
        OutputChange(
            name=name,
            action=_action((doc or {}).get("actions") or ["no-op"]),
            sensitive=bool((doc or {}).get("after_sensitive") or (doc or {}).get("before_sensitive")),
        )
        for name, doc in sorted((plan.get("output_changes") or {}).items())
        if _action((doc or {}).get("actions") or ["no-op"]) != "no-op"
    )
    changes.sort(key=lambda c: (ACTION_ORDER.index(c.action) if c.action in ACTION_ORDER else 99, c.address))
    return PlanSummary(
        add=add,
        change=change,
        destroy=destroy,
        replace=replace,
        import_=imports,
        move=moves,
        read=reads,
        changes=tuple(changes),
        outputs=outputs,
        terraform_version=str(plan.get("terraform_version", "")),
        errored=bool(plan.get("errored")),
        drift=len(plan.get("resource_drift") or []),
    )


# What `terraform plan` prints around the plan that `terraform show <plan file>` prints (Terraform >= 1.5
# renders both from the same plan; under TF_IN_AUTOMATION the plan adds no "apply it with" trailer):
# - before it, one progress line per object read or refreshed: `<address>: Refreshing state... [id=...]`,
#   `data.x.y: Reading...`, `... Read complete after 0s`, `... Still reading... [10s elapsed]`, and the
#   state lock's `Acquiring state lock. This may take a few moments...` when the lock is slow to come;
# - after it, the warnings (`Warning: <summary>` after a blank line) and the lock's `Releasing ...` line.
_INDEX = r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]'
_NAME = r"[A-Za-z_][\w-]*"
_ADDRESS = (
    rf"(?:module\.{_NAME}(?:{_INDEX})?\.)*(?:data\.|ephemeral\.)?{_NAME}\.{_NAME}(?:{_INDEX})?"
    r"(?: \(deposed object \w+\))?"
)
_PROGRESS = re.compile(rf"^{_ADDRESS}: \S")
_LOCK_LINE = re.compile(r"^(?:Acquiring|Releasing) state lock\. This may take a few moments\.\.\.$")
_DIAGNOSTIC = re.compile(r"^(?:Warning|Error): ")


def human_plan(output: str) -> str:
    """The plan `terraform show <plan file>` would print, cut from `terraform plan -no-color`'s own
    output (so a deploy runs one `show`, the JSON one): without the progress lines before it and the
    warnings after it. Lines between the first and the last line of the plan are kept as they are."""
    lines = output.splitlines()
    start = 0
    while start < len(lines) and (
        not lines[start].strip() or _PROGRESS.match(lines[start]) or _LOCK_LINE.match(lines[start])
    ):
        start += 1
    end = len(lines)
    for i in range(start + 1, len(lines)):
        if _DIAGNOSTIC.match(lines[i]) and not lines[i - 1].strip():
            end = i
            break
    body = [line for line in lines[start:end] if not _LOCK_LINE.match(line)]
    while body and not body[-1].strip():
        body.pop()
    return "\n".join(body) + "\n" if body else ""
