"""checkov over the roots and over plan JSON, offline, as a subprocess (its JSON report parsed)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHECKOV = Path(sys.executable).with_name("checkov")


@dataclass(frozen=True)
class Finding:
    check_id: str
    resource: str
    file: str
    suppress_comment: str

    def __str__(self) -> str:
        return f"{self.check_id} {self.resource} ({self.file})"


@dataclass(frozen=True)
class Scan:
    passed: int
    failed: list[Finding]
    skipped: list[Finding]


def _findings(items: list[dict[str, Any]]) -> list[Finding]:
    return [
        Finding(
            check_id=item["check_id"],
            resource=item["resource"],
            file=item.get("file_path", ""),
            suppress_comment=str((item.get("check_result") or {}).get("suppress_comment") or ""),
        )
        for item in items
    ]


def _run(args: list[str]) -> Scan:
    done = subprocess.run(
        [str(CHECKOV), *args, "--skip-download", "--compact", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise AssertionError(f"checkov did not run ({done.returncode}):\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    passed, failed, skipped = 0, [], []
    for one in reports:
        if "results" not in one:  # an empty report: nothing of that framework found
            continue
        results = one["results"]
        passed += len(results["passed_checks"])
        failed += _findings(results["failed_checks"])
        skipped += _findings(results["skipped_checks"])
    return Scan(passed=passed, failed=failed, skipped=skipped)


def scan_directory(directory: Path) -> Scan:
    return _run(["-d", str(directory), "--framework", "terraform"])


def scan_plan(plan_json: Path, source_root: Path) -> Scan:
    """Scan a `terraform show -json` file; inline skips come from the .tf files under `source_root`."""
    return _run(
        [
            "-f",
            str(plan_json),
            "--framework",
            "terraform_plan",
            "--repo-root-for-plan-enrichment",
            str(source_root),
        ]
    )
