"""The roots as files: formatting, offline validation, generated README tables, engine contracts."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest

from prenv.core import naming
from prenv.engine.lifecycle import HOOK_VARIABLES, declared_variables
from scripts import tfdocs
from tests.roots_support.tf import ROOTS, TERRAFORM, copy_root, terraform


@pytest.mark.terraform
def test_terraform_fmt_is_clean(tf_env: dict[str, str]) -> None:
    run = terraform(
        ["fmt", "-check", "-recursive", "-diff", "-no-color", str(TERRAFORM)], TERRAFORM, tf_env, check=False
    )
    assert run.returncode == 0, f"run `terraform fmt -recursive terraform`:\n{run.stdout}"


@pytest.mark.terraform
@pytest.mark.parametrize("name", ROOTS)
def test_root_validates_offline(name: str, tmp_path: Path, tf_env: dict[str, str]) -> None:
    root = copy_root(name, tmp_path)
    terraform(["init", "-backend=false", "-input=false", "-no-color"], root, tf_env)
    run = terraform(["validate", "-json", "-no-color"], root, tf_env, check=False)
    result = json.loads(run.stdout)
    assert result["valid"], result["diagnostics"]
    assert result["error_count"] == 0
    assert [d["summary"] for d in result["diagnostics"]] == []  # no warnings either (deprecations)


@pytest.mark.parametrize("name", ROOTS)
def test_every_root_has_the_standard_files(name: str) -> None:
    files = {p.name for p in (TERRAFORM / name).iterdir()}
    assert {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"} <= files


@pytest.mark.parametrize("name", ROOTS)
def test_versions_pin_terraform_and_a_provider_range_with_5_100(name: str) -> None:
    text = (TERRAFORM / name / "versions.tf").read_text(encoding="utf-8")
    assert 'required_version = ">= 1.11"' in text
    assert re.search(r'version\s*=\s*">= 5\.100, < 6\.0"', text)


def test_readme_tables_are_up_to_date() -> None:
    assert tfdocs.main(["--check"]) == 0, "run `python scripts/tfdocs.py` and commit the READMEs"


def test_tfdocs_check_fails_on_drift_and_regenerates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "preview"
    shutil.copytree(TERRAFORM / "preview", root, ignore=shutil.ignore_patterns(".terraform*"))
    with (root / "variables.tf").open("a", encoding="utf-8") as handle:
        handle.write(
            '\nvariable "added_later" {\n  description = "A | piped <thing>"\n  type = list(string)\n}\n'
        )

    assert tfdocs.main(["--check", str(root)]) == 1
    assert f"tfdocs: {root / 'README.md'} is out of date" in capsys.readouterr().err

    assert tfdocs.main([str(root)]) == 0
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "| `added_later` | A \\| piped &lt;thing&gt; | `list(string)` |  | yes |" in readme
    assert tfdocs.main(["--check", str(root)]) == 0


def test_tfdocs_without_markers_says_where_they_go(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text('output "x" {\n  value = 1\n}\n', encoding="utf-8")
    (root / "README.md").write_text("# no markers\n", encoding="utf-8")
    assert tfdocs.main(["--check", str(root)]) == 2
    assert "add the markers <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS -->" in capsys.readouterr().err


def test_tfdocs_reports_unparsable_hcl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text('variable "x" {\n  type = \n', encoding="utf-8")
    (root / "README.md").write_text(f"{tfdocs.BEGIN}\n{tfdocs.END}\n", encoding="utf-8")
    assert tfdocs.main([str(root)]) == 2
    assert f"tfdocs: {root / 'main.tf'}: cannot parse HCL" in capsys.readouterr().err


def test_preview_declares_every_variable_prenv_passes() -> None:
    declared = declared_variables(TERRAFORM / "preview")
    assert declared is not None
    assert {"pr_number", "workspace", "name_prefix", "repository", "head_sha", "image"} <= declared
    assert set(HOOK_VARIABLES.values()) <= declared  # hooks.migrate and hooks.seed


def test_base_needs_only_the_repository() -> None:
    variables, _ = tfdocs.read_root(TERRAFORM / "base")
    assert [v.name for v in variables if v.required] == ["repository"]


def test_preview_outputs_the_contract() -> None:
    _, outputs = tfdocs.read_root(TERRAFORM / "preview")
    names = {o.name for o in outputs}
    assert {
        "url",
        "ecs_cluster",
        "ecs_service",
        "log_group",
        "db_endpoint",
        "db_secret_arn",
        "region",
    } <= names
    assert not any(o.sensitive for o in outputs)  # nothing secret is output, so nothing needs hiding


def test_rds_engine_version_is_a_literal_postgres_16() -> None:
    text = (TERRAFORM / "preview" / "database.tf").read_text(encoding="utf-8")
    assert re.search(r'^\s*engine\s*=\s*"postgres"', text, re.MULTILINE)
    versions = re.findall(r'^\s*engine_version\s*=\s*"([^"]+)"', text, re.MULTILINE)
    assert versions == ["16"]


def test_the_preview_root_accepts_the_pr_numbers_naming_accepts() -> None:
    """One limit: prenv refuses a PR number at once where terraform/preview would refuse it at plan."""
    text = (TERRAFORM / "preview" / "variables.tf").read_text(encoding="utf-8")
    (condition,) = re.findall(r"condition\s*=\s*(var\.pr_number >= .*)", text)
    assert condition == (
        f"var.pr_number >= 1 && var.pr_number <= {naming.MAX_PR_NUMBER} "
        "&& floor(var.pr_number) == var.pr_number"
    )
    assert f"from 1 to {naming.MAX_PR_NUMBER}:" in text
    naming.names_for(naming.MAX_PR_NUMBER, "o/r")
    with pytest.raises(naming.NamingError, match=f"between 1 and {naming.MAX_PR_NUMBER}"):
        naming.names_for(naming.MAX_PR_NUMBER + 1, "o/r")


def test_every_root_computes_hash6_as_naming_does() -> None:
    """sha256 of the trimmed, lowercased repository, its first REPOSITORY_HASH_LENGTH hex characters."""
    trimmed = {"trimspace(var.repository)", "local.repository"}
    uses = []
    for path in sorted(TERRAFORM.rglob("*.tf")):
        text = path.read_text(encoding="utf-8")
        code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
        for match in re.finditer(r"sha256\((?![a-z]+ )", code):  # not the prose of a description
            found = re.match(
                r"substr\(sha256\(lower\(([^()]*(?:\([^()]*\))?)\)\), 0, (\d+)\)", code[match.start() - 7 :]
            )
            assert found, f"{path}: {code[match.start() - 7 : match.start() + 60]!r}"
            source, length = found.groups()
            assert source in trimmed, f"{path}: hash of {source}"
            assert int(length) == naming.REPOSITORY_HASH_LENGTH, path
            if source == "local.repository":
                assert re.search(r"^\s*repository\s*=\s*trimspace\(var\.repository\)", code, re.MULTILINE), (
                    path
                )
            uses.append(path.parent.name)
    assert {"base", "preview"} <= set(uses)
    assert naming.repository_hash(" Octo/App ") == hashlib.sha256(b"octo/app").hexdigest()[:6]
