"""docs/setup.md's tables of what the workflows' role can and cannot do, from tests/iam's evaluation.

    python scripts/iam_docs.py            rewrite the block between the iam markers in docs/setup.md
    python scripts/iam_docs.py --check    exit 1 when docs/setup.md differs from the evaluation (drift)

Renders the policies with Terraform against the embedded emulator (cached), evaluates
tests/iam/recorded.json, tests/iam/cases.py and the statement-removal check with the IAM simulator
(`npm ci --prefix tests/iam` first), and writes the tables.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when docs/setup.md is out of date")
    args = parser.parse_args(argv)

    from prenv.sandbox import emulator as emu
    from tests.iam.docs import DOC, generate, updated
    from tests.iam.policies import render
    from tests.iam.simulator import Simulator

    server = emu.start_emulator()
    try:
        policies = render(server)
    finally:
        server.stop()
    simulator = Simulator()
    try:
        block = generate(simulator, policies)
    finally:
        simulator.close()
    current = DOC.read_text(encoding="utf-8")
    wanted = updated(current, block)
    if args.check:
        if wanted != current:
            print(f"{DOC.relative_to(ROOT)} is out of date: run python scripts/iam_docs.py", file=sys.stderr)
            return 1
        print(f"{DOC.relative_to(ROOT)}: the IAM tables are up to date")
        return 0
    DOC.write_text(wanted, encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
