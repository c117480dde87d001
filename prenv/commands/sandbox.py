"""`prenv sandbox`: the whole PR lifecycle against an embedded AWS emulator, with no cloud account.

It starts moto in this process, creates the state bucket, then runs the real engine (real Terraform,
real S3 backend, real lock files) for a pretend PR: deploy, redeploy (no changes), destroy, and shows
that the workspace's state is gone. With the repository's `terraform/preview` (and `terraform/base`,
applied once first) it runs those; elsewhere it runs a small example root shipped with prenv.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from prenv.commands import deploy, destroy
from prenv.commands.common import Services
from prenv.core.config import Config
from prenv.core.domain import Context
from prenv.core.errors import ExitStatus, FailureReason, PrenvError
from prenv.engine.terraform import Terraform, find_binary
from prenv.report.port import Reporter, Reporters
from prenv.report.terminal import TerminalReporter
from prenv.sandbox import emulator

BUCKET = "prenv-sandbox-state"
REPOSITORY = "prenv-sandbox/app"
EXAMPLE_ROOT = Path(__file__).resolve().parent.parent / "sandbox" / "example_root"


@dataclass
class Layout:
    """Which Terraform the sandbox runs: the repository's base + preview, or the example root."""

    preview: Path
    base: Path | None
    source: str


def choose_roots(cwd: Path, root_option: str | None, work: Path) -> Layout:
    """Copy the Terraform to run into `work` (so nothing is written into the repository) and say which."""
    if root_option:
        source = (cwd / root_option).resolve()
        if not source.is_dir():
            raise PrenvError(
                f"--root {root_option}: no such directory",
                reason=FailureReason.USAGE,
                exit_status=ExitStatus.USAGE,
            )
        target = work / "root"
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
        return Layout(preview=target, base=None, source=str(source))
    repo_terraform = cwd / "terraform"
    if (repo_terraform / "preview").is_dir():
        target = work / "terraform"
        shutil.copytree(repo_terraform, target, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
        base = target / "base" if (target / "base").is_dir() else None
        return Layout(preview=target / "preview", base=base, source=str(repo_terraform / "preview"))
    target = work / "root"
    shutil.copytree(EXAMPLE_ROOT, target, ignore=shutil.ignore_patterns(".terraform*", "__pycache__"))
    return Layout(preview=target, base=None, source="the example root shipped with prenv")


def write_config(path: Path, preview_root: Path, region: str) -> Path:
    path.write_text(
        "\n".join(
            [
                "# Written by `prenv sandbox`: the emulator's state bucket and the root it runs.",
                "backend:",
                f"  bucket: {BUCKET}",
                f"  region: {region}",
                "  key: preview.tfstate",
                "  workspace_key_prefix: prenv",
                "terraform:",
                f"  root: {preview_root}",
                "  lock_timeout: 30s",
                f"repository: {REPOSITORY}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return path


def _apply_base(
    services: Services, base: Path, env: dict[str, str], work: Path, say: Callable[[str], None]
) -> None:
    tf = Terraform(
        root=base, binary=find_binary("", env), env=env, verbose=services.verbose, show=services.print_output
    )
    say(f"Applying the shared base ({base.name}) once: VPC, load balancer, ECS cluster ...")
    start = time.monotonic()
    tf.init(
        {
            "bucket": BUCKET,
            "region": env["AWS_REGION"],
            "key": "base.tfstate",
            "use_lockfile": "true",
            "use_path_style": "true",
        }
    )
    var_file = work / "base.tfvars.json"
    var_file.write_text(json.dumps({"repository": REPOSITORY}), encoding="utf-8")
    plan_file = work / "base.tfplan"
    if tf.plan(plan_file, var_file):
        tf.apply(plan_file)
    say(f"Base ready in {time.monotonic() - start:.0f}s.")


def _state_objects(endpoint: str, region: str) -> list[str]:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region, **emulator.boto_credentials())
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def run(services: Services, pr: str, *, keep: bool, root: str | None, comment_file: str) -> ExitStatus:
    out = services.out

    def say(text: str) -> None:
        out.write(text + "\n")
        out.flush()

    work = Path(tempfile.mkdtemp(prefix="prenv-sandbox-"))
    emu = emulator.start_emulator()
    try:
        say("=" * 78)
        say(f"prenv sandbox: AWS is EMULATED by moto on {emu.endpoint}. No cloud account is used,")
        say("nothing real is created, and nothing is sent to GitHub.")
        say("=" * 78)
        mirror = emulator.find_provider_mirror()
        env = emu.isolated_environment(services.env, work / "cli", mirror)
        env["PRENV_SANDBOX"] = "1"
        env["GITHUB_REPOSITORY"] = REPOSITORY
        say(
            "Terraform providers: " + (f"local mirror {mirror}" if mirror else "downloaded from the registry")
        )
        emulator.create_bucket(emu, BUCKET)
        say(f"State bucket s3://{BUCKET} created in the emulator.")
        layout = choose_roots(services.cwd, root, work)
        say(f"Terraform root: {layout.source}")
        if layout.base is not None:
            _apply_base(services, layout.base, env, work, say)
        config_path = write_config(work / "prenv.yml", layout.preview, emu.region)
        comment_path = (services.cwd / comment_file) if comment_file else None
        sub = replace(
            services,
            env=env,
            config_path=str(config_path),
            event=None,
            _event_loaded=True,
            reporter_factory=_reporters(comment_path),
        )
        say(f"\n[1/3] prenv deploy --pr {pr}")
        deploy.run(sub, pr, sha="0" * 40)
        say(f"\n[2/3] prenv deploy --pr {pr} (again: nothing changed, so nothing is applied)")
        deploy.run(sub, pr, sha="0" * 40)
        if keep:
            _wait_kept(say, emu, pr)
            return ExitStatus.SUCCESS
        say(f"\n[3/3] prenv destroy --pr {pr}")
        destroy.run(sub, pr)
        leftover = [key for key in _state_objects(emu.endpoint, emu.region) if f"/pr-{pr}/" in key]
        if leftover:
            raise PrenvError(
                f"state objects are left after the destroy: {', '.join(leftover)}",
                reason=FailureReason.DESTROY_FAILED,
            )
        say(
            f"State of workspace pr-{pr} is gone: no object under s3://{BUCKET}/prenv/pr-{pr}/, so "
            f"`terraform workspace list` no longer shows it."
        )
        if comment_path is not None:
            say(f"The PR comment prenv would have posted is in {comment_path}")
        say("\nSandbox lifecycle complete: deploy, redeploy (no changes), destroy.")
        return ExitStatus.SUCCESS
    finally:
        emu.stop()
        shutil.rmtree(work, ignore_errors=True)


def _wait_kept(say: Callable[[str], None], emu: emulator.Emulator, pr: str) -> None:
    say(f"\n--keep: the preview of PR {pr} stays up in the emulator at {emu.endpoint}.")
    say(
        f"Try: AWS_ENDPOINT_URL={emu.endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
        f"aws --region {emu.region} s3 ls s3://{BUCKET} --recursive"
    )
    say("The emulator lives in this process: press Ctrl-C to stop it (everything in it is then gone).")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        say("Stopping the emulator.")


def _reporters(comment_path: Path | None) -> Callable[[Services, Config, Context], Reporter]:
    def build(services: Services, config: Config, ctx: Context) -> Reporter:
        members: list[Reporter] = [TerminalReporter(services.out)]
        if comment_path is not None:
            from prenv.report.pr import LocalCommentReporter

            members.append(
                LocalCommentReporter(
                    config=config, template_dir=services.cwd, path=comment_path, out=services.out
                )
            )
        return Reporters(members)

    return build
