"""parliament and policy_sentry over the IAM policies prenv ships, as Terraform renders them.

    python scripts/iam_lint.py

Renders terraform/bootstrap's policies (the workflows' role) and terraform/base's permissions boundary
with `terraform plan` against the embedded AWS emulator (cached by tests/iam/policies.py), then:
- parliament (its own auditors), every finding printed; the finding kinds listed in FILTERED are known
  false positives for these policies, each with the reason; any other finding fails;
- every condition key of every statement checked against policy_sentry's database for each action of
  the statement (global aws: keys apart).
Exit 1 when anything unexplained is found. Needs terraform and the `test` extra (moto, policy_sentry).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Finding kinds parliament reports on these policies that are not problems, and why.
FILTERED = {
    "RESOURCE_MISMATCH": (
        "parliament wants every resource of a statement to fit every action's resource types, and does not "
        "read policy variables: ec2:CreateSecurityGroup is authorized on the VPC and on the new group, "
        "rds:CreateDBInstance on the instance and on the subnet group, parameter and option groups it uses, "
        "SetRulePriorities/CreateRule on listener or rule ARNs of the application load balancer only, and "
        "iam:CreateRole/iam:TagRole on role/prenv-<hash6>-pr${aws:RequestTag/prenv:pr}-* (a role ARN once "
        "the variable is resolved). tests/iam evaluates each of these calls with a simulator instead."
    ),
    "MISMATCHED_TYPE_BUT_USABLE": (
        "StringEquals on an ARN-typed key (iam:PermissionsBoundary, aws:ResourceTag/aws:rds:"
        "primaryDBInstanceArn): IAM compares ARN keys with string operators; parliament itself calls it "
        "usable."
    ),
    "UNKNOWN_CONDITION_FOR_ACTION": (
        "parliament's database predates aws:ViaAWSService (a global key: "
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"
        "#condition-keys-viaawsservice) "
        "and elasticloadbalancing:CreateAction; the check against policy_sentry below covers these keys."
    ),
}


def main() -> int:
    from parliament import analyze_policy_string

    from prenv.sandbox import emulator as emu
    from tests.iam.catalog import key_is_valid
    from tests.iam.policies import render

    server = emu.start_emulator()
    try:
        policies = render(server)
    finally:
        server.stop()
    documents = {f"bootstrap/{name}": doc for name, doc in sorted(policies.identity.items())}
    documents["base/preview-boundary"] = policies.boundary
    documents["bootstrap/github-boundary"] = policies.role_boundary
    failed = 0
    filtered: dict[str, int] = {}
    for name, document in documents.items():
        analyzed = analyze_policy_string(json.dumps(document), include_community_auditors=False)
        for finding in analyzed.findings:
            if finding.issue in FILTERED:
                filtered[finding.issue] = filtered.get(finding.issue, 0) + 1
                print(
                    f"  filtered {finding.issue} in {name}: {json.dumps(finding.detail, default=str)[:160]}"
                )
                continue
            failed += 1
            print(f"parliament: {name}: {finding.issue}: {finding.detail} ({finding.location})")
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for operator in statement.get("Condition", {}).values():
                for key in operator:
                    for action in actions:
                        if not key_is_valid(action, key):
                            failed += 1
                            print(
                                f"policy_sentry: {name} {statement['Sid']}: "
                                f"{key} is not a condition key of {action}"
                            )
    for kind, count in sorted(filtered.items()):
        print(f"parliament: {count} x {kind} filtered: {FILTERED[kind]}")
    print(f"iam lint: {len(documents)} policies, {failed} unexplained finding(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
