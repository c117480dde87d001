"""The Terraform runner: argument lists, environment, and failures classified into failure-reasons."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from prenv.commands.wiring import read_environment, terraform_binary
from prenv.core.errors import FailureReason, PrenvError
from prenv.engine.terraform import (
    LockInfo,
    SavedPlan,
    Terraform,
    TerraformError,
    find_binary,
    parse_lock_info,
    run_streaming,
)

# What Terraform 1.11 prints when the S3 lock file is held (captured from a real run against moto).
LOCKED = """
Acquiring state lock. This may take a few moments...
╷
│ Error: Error acquiring the state lock
│
│ Error message: operation error S3: PutObject, https response error
│ StatusCode: 412, RequestID: XLJvnNYz8zYsVqth6swPh5nBRQV32M1Tqa1FdnJeSJ3kLZq4OqUK,
│ api error PreconditionFailed: At least one of the pre-conditions you
│ specified did not hold
│ Lock Info:
│   ID:        1111-2222
│   Path:      state/prenv/pr-1/t.tfstate
│   Operation: OperationTypeApply
│   Who:       alice@ci
│   Version:   1.11.4
│   Created:   2026-11-29 05:00:00.123 +0000 UTC
│   Info:
│
│
│ Terraform acquires a state lock to protect the state from being written
│ by multiple users at the same time.
╵
"""


class Recorder:
    """Stands in for subprocess.run: records the call and answers with a canned result."""

    def __init__(self, returncode: int = 0, stdout: str = "", stderr: str = "") -> None:
        self.calls: list[dict[str, Any]] = []
        self.result = (returncode, stdout, stderr)

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append({"argv": argv, **kwargs})
        code, out, err = self.result
        return subprocess.CompletedProcess(argv, code, out, err)


def make(tmp_path: Path, runner: Recorder, **kwargs: Any) -> Terraform:
    env = {"PATH": "/bin", "TF_WORKSPACE": "x", "TF_CLI_ARGS": "-lock=false", "AWS_REGION": "eu-west-1"}
    return Terraform(
        root=tmp_path,
        binary="/usr/bin/terraform",
        env=env,
        runner=runner,
        lock_timeout=timedelta(seconds=45),
        data_dir=tmp_path / "data",
        **kwargs,
    )


def test_parse_lock_info() -> None:
    assert parse_lock_info(LOCKED) == LockInfo(
        id="1111-2222",
        path="state/prenv/pr-1/t.tfstate",
        operation="OperationTypeApply",
        who="alice@ci",
        version="1.11.4",
        created="2026-11-29 05:00:00.123 +0000 UTC",
    )
    assert parse_lock_info("Error: something else") is None


def test_state_locked_is_classified(tmp_path: Path) -> None:
    shown: list[tuple[str, str]] = []
    tf = make(tmp_path, Recorder(1, "", LOCKED), show=lambda title, text: shown.append((title, text)))
    with pytest.raises(TerraformError) as info:
        tf.plan(tmp_path / "p", None)
    err = info.value
    assert err.reason is FailureReason.STATE_LOCKED
    assert err.lock is not None
    assert err.lock.id == "1111-2222"
    assert err.message == (
        "the state is locked: lock 1111-2222 held by alice@ci since 2026-11-29 05:00:00.123 +0000 UTC "
        "(OperationTypeApply)"
    )
    assert "prenv unlock --pr <N> --lock-id 1111-2222" in err.hint
    assert shown
    assert shown[0][0].startswith("terraform plan")
    assert "Lock Info" in shown[0][1]
    assert err.detail_shown


@pytest.mark.parametrize(
    ("method", "reason"),
    [
        (lambda tf, p: tf.init({"bucket": "b"}), FailureReason.INIT_FAILED),
        (lambda tf, p: tf.plan(p, None), FailureReason.PLAN_FAILED),
        (lambda tf, p: tf.apply(p), FailureReason.APPLY_FAILED),
        (lambda tf, p: tf.destroy(None), FailureReason.DESTROY_FAILED),
        (lambda tf, p: tf.outputs(), FailureReason.OUTPUT_FAILED),
        (lambda tf, p: tf.select_workspace("pr-1", create=True), FailureReason.WORKSPACE_FAILED),
    ],
)
def test_failures_are_classified(tmp_path: Path, method: Any, reason: FailureReason) -> None:
    tf = make(tmp_path, Recorder(1, "", "╷\n│ Error: Invalid reference\n│\n│ on main.tf line 3\n╵\n"))
    with pytest.raises(TerraformError) as info:
        method(tf, tmp_path / "p")
    assert info.value.reason is reason
    assert info.value.message.endswith("failed: Invalid reference")
    assert "on main.tf line 3" in info.value.detail


def test_plan_arguments_and_environment(tmp_path: Path) -> None:
    runner = Recorder(2, "the plan")
    tf = make(tmp_path, runner)
    assert tf.plan(tmp_path / "out.tfplan", tmp_path / "vars.json") == SavedPlan(
        tmp_path / "out.tfplan", changed=True, output="the plan"
    )
    call = runner.calls[0]
    assert call["argv"] == [
        "/usr/bin/terraform",
        "plan",
        "-input=false",
        "-no-color",
        "-detailed-exitcode",
        "-lock-timeout=45s",
        f"-out={tmp_path / 'out.tfplan'}",
        f"-var-file={tmp_path / 'vars.json'}",
    ]
    env = call["env"]
    assert env["TF_IN_AUTOMATION"] == "1"
    assert env["TF_INPUT"] == "0"
    assert env["TF_DATA_DIR"] == str(tmp_path / "data")
    assert "TF_WORKSPACE" not in env
    assert "TF_CLI_ARGS" not in env
    assert env["AWS_REGION"] == "eu-west-1"  # credentials and region only through the environment
    assert call["cwd"] == tmp_path
    assert call["capture_output"] is True
    assert "shell" not in call


def test_no_changes_is_not_an_error(tmp_path: Path) -> None:
    assert make(tmp_path, Recorder(0)).plan(tmp_path / "p", None) == SavedPlan(
        tmp_path / "p", changed=False, output=""
    )


@pytest.mark.parametrize(
    ("call", "argv"),
    [
        (
            lambda tf, p: tf.init({"bucket": "b", "use_lockfile": "true"}),
            [
                "init",
                "-input=false",
                "-no-color",
                "-lock-timeout=45s",
                "-backend-config=bucket=b",
                "-backend-config=use_lockfile=true",
            ],
        ),
        (
            lambda tf, p: tf.apply(p),
            ["apply", "-input=false", "-no-color", "-auto-approve", "-lock-timeout=45s", "P"],
        ),
        (
            lambda tf, p: tf.destroy(p),
            ["destroy", "-input=false", "-no-color", "-auto-approve", "-lock-timeout=45s", "-var-file=P"],
        ),
        (
            lambda tf, p: tf.select_workspace("pr-3", create=True),
            ["workspace", "select", "-no-color", "-or-create", "pr-3"],
        ),
        (lambda tf, p: tf.force_unlock("abc"), ["force-unlock", "-force", "abc"]),
        (lambda tf, p: tf.state_list(), ["state", "list"]),
    ],
)
def test_argument_lists(tmp_path: Path, call: Any, argv: list[str]) -> None:
    runner = Recorder(0, "{}")
    call(make(tmp_path, runner), Path("P"))
    assert runner.calls[0]["argv"] == ["/usr/bin/terraform", *argv]


def test_workspace_delete_never_forces_and_runs_as_if_default_were_selected(tmp_path: Path) -> None:
    runner = Recorder(0)
    make(tmp_path, runner).delete_workspace("pr-3")
    (call,) = runner.calls  # no `workspace select default` first: TF_WORKSPACE says it for this one call
    assert call["argv"][1:] == ["workspace", "delete", "-no-color", "-lock-timeout=45s", "pr-3"]
    assert call["env"]["TF_WORKSPACE"] == "default"


def test_init_runs_as_if_default_were_selected(tmp_path: Path) -> None:
    runner = Recorder(0)
    make(tmp_path, runner).init({"bucket": "b"})
    assert runner.calls[0]["env"]["TF_WORKSPACE"] == "default"  # the selected one may be gone
    runner = Recorder(0)
    make(tmp_path, runner).state_list()
    assert "TF_WORKSPACE" not in runner.calls[0]["env"]  # no workspace named: the selected one counts


def test_the_named_workspace_is_tf_workspace_except_where_terraform_refuses_it(tmp_path: Path) -> None:
    runner = Recorder(0, "{}")
    tf = make(tmp_path, runner, workspace="pr-3")  # the caller's TF_WORKSPACE ("x") is replaced
    tf.init({"bucket": "b"})
    tf.plan(tmp_path / "p", None)
    tf.outputs()
    tf.select_workspace("pr-3", create=True)
    tf.delete_workspace("pr-3")
    seen = [(call["argv"][1], call["env"]["TF_WORKSPACE"]) for call in runner.calls]
    # init: the named workspace may not exist yet; select: refused while TF_WORKSPACE is set (empty is
    # unset to Terraform); delete: refused for the selected workspace.
    assert seen == [
        ("init", "default"),
        ("plan", "pr-3"),
        ("output", "pr-3"),
        ("workspace", ""),
        ("workspace", "default"),
    ]


@pytest.mark.parametrize(
    ("stdout", "count"),
    [
        ("aws_ssm_parameter.this: Destroying...\n\nDestroy complete! Resources: 3 destroyed.\n", 3),
        ("\nNo changes. No objects need to be destroyed.\n\nDestroy complete! Resources: 0 destroyed.\n", 0),
        ("something else", None),
    ],
)
def test_destroy_reports_how_many_resources_terraform_destroyed(
    tmp_path: Path, stdout: str, count: int | None
) -> None:
    assert make(tmp_path, Recorder(0, stdout)).destroy(None) == count


def test_verbose_shows_output_of_successful_calls(tmp_path: Path) -> None:
    shown: list[str] = []
    make(tmp_path, Recorder(0, "hello"), verbose=True, show=lambda t, x: shown.append(x)).state_list()
    assert shown == ["hello"]
    quiet: list[str] = []
    make(tmp_path, Recorder(0, "hello"), show=lambda t, x: quiet.append(x)).state_list()
    assert quiet == []


def test_binary_not_found() -> None:
    with pytest.raises(PrenvError) as info:
        terraform_binary(read_environment({"PATH": "/nonexistent"}))
    assert info.value.reason is FailureReason.TERRAFORM_NOT_FOUND
    assert info.value.one_line() == (
        "terraform not found on PATH; "
        "install Terraform >= 1.11 (or set PRENV_TERRAFORM to the binary, such as tofu)"
    )


def test_prenv_terraform_names_another_binary(tmp_path: Path) -> None:
    tofu = tmp_path / "tofu"
    tofu.write_text("#!/bin/sh\n")
    tofu.chmod(0o755)
    environment = read_environment({"PATH": str(tmp_path), "PRENV_TERRAFORM": "tofu"})
    assert terraform_binary(environment, "terraform") == str(tofu)
    assert terraform_binary(read_environment({"PATH": str(tmp_path)}), "tofu") == str(tofu)
    assert find_binary("tofu", str(tmp_path)) == str(tofu)


# --- following a command as it runs (the Progress hook) ----------------------------------------------


def test_run_streaming_hands_over_each_line_while_the_process_runs(tmp_path: Path) -> None:
    # The process prints "two" only once the hook has seen "one": a runner that read the output only
    # at the end would never get there (`timeout` turns that into exit 124 instead of a hang).
    script = f"echo one; while [ ! -f {tmp_path}/seen ]; do sleep 0.05; done; echo two; echo oops >&2; exit 3"
    seen: list[str] = []

    def on_line(line: str) -> None:
        seen.append(line)
        (tmp_path / "seen").touch()

    done = run_streaming(["timeout", "20", "sh", "-c", script], on_line=on_line, cwd=tmp_path, env=os.environ)
    assert (done.returncode, done.stdout, done.stderr) == (3, "one\ntwo\n", "oops\n")
    assert seen == ["one", "two"]


def test_an_error_in_the_hook_does_not_stop_the_process(tmp_path: Path) -> None:
    def on_line(line: str) -> None:
        raise ValueError(line)

    with pytest.raises(ValueError, match="first"):
        run_streaming(
            ["sh", "-c", f"echo first; echo second; touch {tmp_path}/finished"],
            on_line=on_line,
            cwd=tmp_path,
            env=os.environ,
        )
    assert (tmp_path / "finished").exists()  # the process ran to its end


class Followed:
    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []

    def started(self, command: str) -> None:
        self.events.append(("started", command))

    def line(self, command: str, text: str) -> None:
        self.events.append(("line", command, text))

    def finished(self, command: str, returncode: int) -> None:
        self.events.append(("finished", command, str(returncode)))


def test_each_command_is_followed_from_start_to_end(tmp_path: Path) -> None:
    fake = tmp_path / "terraform"
    fake.write_text('#!/bin/sh\necho "aws_vpc.this: Creation complete after 1s"\necho "Apply complete!"\n')
    fake.chmod(0o755)
    followed = Followed()
    tf = Terraform(root=tmp_path, binary=str(fake), env={"PATH": os.environ["PATH"]}, progress=followed)
    tf.apply(tmp_path / "plan")
    assert followed.events == [
        ("started", "apply"),
        ("line", "apply", "aws_vpc.this: Creation complete after 1s"),
        ("line", "apply", "Apply complete!"),
        ("finished", "apply", "0"),
    ]
    assert tf.calls[0].stdout == "aws_vpc.this: Creation complete after 1s\nApply complete!\n"


def test_a_command_that_cannot_start_is_still_finished(tmp_path: Path) -> None:
    followed = Followed()
    tf = Terraform(root=tmp_path, binary=str(tmp_path / "missing"), env={}, progress=followed)
    with pytest.raises(PrenvError, match="cannot run"):
        tf.plan(tmp_path / "plan", None)
    assert followed.events == [("started", "plan"), ("finished", "plan", "-1")]
