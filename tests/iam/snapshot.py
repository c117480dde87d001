"""Refresh tests/iam/recorded.json from a recording: `PRENV_IAM_RECORD=/tmp/rec pytest ...`, then
`python -m tests.iam.snapshot /tmp/rec`. With `--merge`, the recording's authorizations are added to
the ones recorded.json holds (for new tests, without recording the whole set again); a full recording
is what drops the ones no test makes any more.

recorded.json holds every distinct authorization the tests evaluated, rewritten for the example
deployment (tests/iam/policies.py: EXAMPLE_REPOSITORY, its bucket, PR 101, fixed resource ids), so it
does not change from run to run. The statement-removal test and the table in docs/setup.md read it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from prenv.core.naming import repository_hash
from tests.iam.policies import EXAMPLE_BUCKET, EXAMPLE_HASH, EXAMPLE_REPOSITORY

SNAPSHOT = Path(__file__).resolve().parent / "recorded.json"

# Ids AWS (here moto) makes up, and PR numbers: one fixed value each, so equal requests compare equal.
_IDS = [
    (re.compile(r"\bsg-[0-9a-f]{8,17}\b"), "sg-0123456789abcdef0"),
    (re.compile(r"\bsgr-[0-9a-f]{8,17}\b"), "sgr-0123456789abcdef0"),
    (re.compile(r"\bvpc-[0-9a-f]{8,17}\b"), "vpc-0123456789abcdef0"),
    (
        re.compile(
            r"(:(?:loadbalancer|listener|listener-rule|targetgroup)/(?:app/)?[a-z0-9-]+)((?:/[0-9a-f]{16})+)"
        ),
        None,
    ),
    (
        re.compile(r"rds!db-[0-9a-f-]{36}-[A-Za-z0-9]{6}"),
        "rds!db-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d-AbCdEf",
    ),
    (
        re.compile(r"rds!cluster-[0-9a-f-]{36}-[A-Za-z0-9]{6}"),
        "rds!cluster-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d-AbCdEf",
    ),
    # The suffix Secrets Manager appends to a secret's name (prenv's per-PR database secrets).
    (re.compile(r"(:secret:prenv/[0-9a-f]{6}/pr\d+/database)-[A-Za-z0-9]{6}"), r"\g<1>-AbCdEf"),
    (re.compile(r"(:task/[a-z0-9-]+/)[0-9a-f]{32}"), r"\g<1>0123456789abcdef0123456789abcdef"),
    (re.compile(r"(:task/[a-z0-9-]+/)[0-9a-f-]{36}"), r"\g<1>0123456789abcdef0123456789abcdef"),
    (re.compile(r"(:task-definition/[a-z0-9-]+):\d+"), r"\g<1>:1"),
    (re.compile(r"(:key/)[0-9a-f-]{36}"), r"\g<1>0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"),
    (re.compile(r":db:db-[A-Z0-9]{26}\b"), ":db:db-ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    (re.compile(r"(-pr|/pr|pr-)\d+"), r"\g<1>101"),
    (re.compile(r'("aws:(?:RequestTag|ResourceTag|PrincipalTag)/prenv:pr": ")\d+'), r"\g<1>101"),
    (re.compile(r"(:log-stream:app/[a-z_-]+/)[0-9a-f-]+"), r"\g<1>0"),
]


def _fixed_elb_ids(match: re.Match[str]) -> str:
    count = match.group(2).count("/")
    return match.group(1) + "/0123456789abcdef" * count


def canonical(entry: dict[str, Any]) -> dict[str, Any]:
    keys = ("action", "resource", "context", "why", "role", "resource_policy")
    text = json.dumps({k: entry.get(k) for k in keys}, sort_keys=True)
    text = text.replace(entry["bucket"], EXAMPLE_BUCKET)
    text = text.replace(json.dumps(entry["repository"])[1:-1], EXAMPLE_REPOSITORY)
    text = text.replace(repository_hash(entry["repository"]), EXAMPLE_HASH)
    for pattern, replacement in _IDS:
        text = pattern.sub(_fixed_elb_ids if replacement is None else replacement, text)
    data: dict[str, Any] = json.loads(text)
    data["call"] = f"{entry['call']['service']} {entry['call']['operation']}"
    if data["role"] != "bootstrap":
        data["role"] = "execution" if data["role"].endswith("-exec") else "task"
    return data


def main(argv: list[str]) -> int:
    merge = "--merge" in argv
    argv = [a for a in argv if a != "--merge"]
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    seen: dict[str, dict[str, Any]] = {}
    if merge:
        for data in json.loads(SNAPSHOT.read_text(encoding="utf-8")):
            seen[json.dumps(data, sort_keys=True)] = data
    for path in sorted(Path(argv[0]).glob("*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8"))["evaluated"]:
            if entry["result"] != "Allowed":  # the exempt calls (plugin.EXEMPT): denied on purpose
                continue
            data = canonical(entry)
            seen[json.dumps(data, sort_keys=True)] = data
    rows = sorted(
        seen.values(),
        key=lambda d: (
            d["role"],
            d["call"],
            d["action"],
            d["resource"],
            json.dumps(d["context"], sort_keys=True),
        ),
    )
    SNAPSHOT.write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{SNAPSHOT}: {len(rows)} distinct authorizations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
