"""The allow-list of checkov suppressions in terraform/, and a reader of the inline skips."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Every `#checkov:skip` in terraform/, by (file, block, check). A new skip fails the tests until it is
# added here with its reason class. Preview skips must be about the preview being ephemeral.
EPHEMERAL = "ephemeral preview"
ALLOWED: dict[tuple[str, str, str], str] = {
    # terraform/preview: a throwaway copy of the app per PR, destroyed with the PR.
    ("preview/main.tf", "aws_lb_target_group.this", "CKV_AWS_378"): EPHEMERAL,
    ("preview/main.tf", "aws_lb_listener.port", "CKV_AWS_2"): EPHEMERAL,
    ("preview/main.tf", "aws_lb_listener.port", "CKV_AWS_103"): EPHEMERAL,
    ("preview/main.tf", "aws_cloudwatch_log_group.app", "CKV_AWS_338"): EPHEMERAL,
    ("preview/main.tf", "aws_cloudwatch_log_group.app", "CKV_AWS_158"): EPHEMERAL,
    ("preview/database.tf", "aws_cloudwatch_log_group.db", "CKV_AWS_338"): EPHEMERAL,
    ("preview/database.tf", "aws_cloudwatch_log_group.db", "CKV_AWS_158"): EPHEMERAL,
    ("preview/database.tf", "aws_db_instance.this", "CKV_AWS_157"): EPHEMERAL,
    ("preview/database.tf", "aws_db_instance.this", "CKV_AWS_118"): EPHEMERAL,
    ("preview/database.tf", "aws_db_instance.this", "CKV_AWS_353"): EPHEMERAL,
    ("preview/database.tf", "aws_db_instance.this", "CKV2_AWS_30"): EPHEMERAL,
    ("preview/database.tf", "aws_db_instance.this", "CKV_AWS_293"): EPHEMERAL,
    ("preview/database.tf", "aws_db_instance.this", "CKV_AWS_133"): EPHEMERAL,
    # terraform/base: the shared front of the previews (HTTP when no certificate, optional extras).
    ("base/main.tf", "data.aws_availability_zones.available", "CKV_AWS_394"): "zones chosen by position",
    ("base/main.tf", "aws_cloudwatch_log_group.flow", "CKV_AWS_338"): "preview network flow log",
    ("base/main.tf", "aws_cloudwatch_log_group.flow", "CKV_AWS_158"): "preview network flow log",
    ("base/alb.tf", "aws_vpc_security_group_ingress_rule.alb_http", "CKV_AWS_260"): "public entry point",
    ("base/alb.tf", "aws_lb.this", "CKV2_AWS_28"): "optional WAF",
    ("base/alb.tf", "aws_lb.this", "CKV2_AWS_20"): "HTTP only without a certificate",
    ("base/alb.tf", "aws_lb.this", "CKV_AWS_91"): "optional access logs",
    ("base/alb.tf", "aws_lb_listener.http", "CKV_AWS_2"): "HTTP only without a certificate",
    ("base/alb.tf", "aws_lb_listener.http", "CKV_AWS_103"): "HTTP only without a certificate",
    ("base/alb.tf", "aws_acm_certificate.wildcard", "CKV2_AWS_71"): "one certificate for pr-<N> hosts",
    # terraform/base, shared_database: one server of preview data, rebuilt by migrations and seed.
    ("base/database.tf", "aws_security_group.db_clients", "CKV2_AWS_5"): "joined by the previews",
    ("base/database.tf", "aws_rds_cluster.shared", "CKV_AWS_327"): "AWS-managed key for preview data",
    ("base/database.tf", "aws_rds_cluster.shared", "CKV2_AWS_8"): "preview data, rebuilt from migrations",
    ("base/database.tf", "aws_rds_cluster.shared", "CKV2_AWS_27"): "PostgreSQL log exported instead",
    ("base/database.tf", "aws_rds_cluster_instance.shared", "CKV_AWS_118"): "CloudWatch metrics suffice",
    ("base/database.tf", "aws_rds_cluster_instance.shared", "CKV_AWS_353"): "not needed for previews",
    # terraform/bootstrap: the state bucket's optional extras, and a checker limitation.
    ("bootstrap/main.tf", "aws_s3_bucket.state", "CKV_AWS_144"): "optional replication",
    ("bootstrap/main.tf", "aws_s3_bucket.state", "CKV_AWS_18"): "optional access logs",
    ("bootstrap/main.tf", "aws_s3_bucket.state", "CKV2_AWS_62"): "no event consumer",
    ("bootstrap/main.tf", "data.aws_iam_policy_document.trust", "CKV_AWS_358"): "false positive",
    **{
        ("bootstrap/extensions.tf", "data.aws_iam_policy_document.github_boundary", check): (
            "a permissions boundary allows nothing by itself"
        )
        for check in (
            "CKV_AWS_1",
            "CKV_AWS_49",
            "CKV_AWS_107",
            "CKV_AWS_108",
            "CKV_AWS_109",
            "CKV_AWS_110",
            "CKV_AWS_111",
            "CKV_AWS_356",
        )
    },
}

_BLOCK = re.compile(r'^(resource|data)\s+"([^"]+)"\s+"([^"]+)"\s*\{', re.MULTILINE)
_SKIP = re.compile(r"#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?$")


@dataclass(frozen=True)
class Skip:
    file: str
    block: str
    check_id: str
    reason: str


def inline_skips(directory: Path) -> list[Skip]:
    """Every `#checkov:skip=ID:reason` under `directory`, with the block it sits in."""
    found: list[Skip] = []
    for path in sorted(directory.rglob("*.tf")):
        if ".terraform" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        blocks = [
            (m.start(), ("data." if m.group(1) == "data" else "") + f"{m.group(2)}.{m.group(3)}")
            for m in _BLOCK.finditer(text)
        ]
        offset = 0
        for line in text.splitlines(keepends=True):
            match = _SKIP.search(line)
            if match:
                enclosing = [name for start, name in blocks if start < offset]
                found.append(
                    Skip(
                        file=path.relative_to(directory).as_posix(),
                        block=enclosing[-1] if enclosing else "",
                        check_id=match.group(1),
                        reason=(match.group(2) or "").strip(),
                    )
                )
            offset += len(line)
    return found
