"""checkov over terraform/: no unsuppressed failure; every suppression inline, reasoned, allow-listed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.roots_support.checkov import Scan, scan_directory
from tests.roots_support.skips import ALLOWED, EPHEMERAL, Skip, inline_skips
from tests.roots_support.tf import TERRAFORM


@pytest.fixture(scope="module")
def scan() -> Scan:
    return scan_directory(TERRAFORM)


def test_checkov_finds_no_unsuppressed_failure(scan: Scan) -> None:
    assert [str(f) for f in scan.failed] == []
    assert scan.passed > 200


def test_every_skip_is_inline_reasoned_and_allow_listed() -> None:
    skips = inline_skips(TERRAFORM)
    found = {(s.file, s.block, s.check_id) for s in skips}
    assert sorted(found - ALLOWED.keys()) == [], "new checkov skips: add them to ALLOWED with a reason"
    assert sorted(ALLOWED.keys() - found) == [], "ALLOWED lists skips the code no longer has"
    for skip in skips:
        assert len(skip.reason) >= 30, f"{skip}: the reason must say why"
        if ALLOWED[(skip.file, skip.block, skip.check_id)] == EPHEMERAL:
            assert skip.reason.lower().startswith(EPHEMERAL), f"{skip}: not an ephemeral-preview reason"


def test_every_skip_suppresses_a_real_finding(scan: Scan) -> None:
    # checkov names data sources without "data." and each for_each instance with its key.
    suppressed = {(f.file.lstrip("/"), re.sub(r"\[.*\]$", "", f.resource), f.check_id) for f in scan.skipped}
    allowed = {(file, block.removeprefix("data."), check) for file, block, check in ALLOWED}
    unused = sorted(allowed - suppressed)
    assert unused == [], "these skips suppress nothing: remove them"


def test_skip_parser_reads_block_and_reason(tmp_path: Path) -> None:
    (tmp_path / "x.tf").write_text(
        'resource "aws_s3_bucket" "b" {\n  #checkov:skip=CKV_AWS_18:Because of a good reason here.\n}\n'
        'data "aws_iam_policy_document" "d" {\n  # checkov:skip=CKV_AWS_1\n}\n',
        encoding="utf-8",
    )
    assert inline_skips(tmp_path) == [
        Skip("x.tf", "aws_s3_bucket.b", "CKV_AWS_18", "Because of a good reason here."),
        Skip("x.tf", "data.aws_iam_policy_document.d", "CKV_AWS_1", ""),
    ]
