"""The engine's calls when the state bucket answers, and when it cannot (Terraform is asked instead).

Terraform's answers are canned here (the runner seam of `Terraform`); tests/commands/test_lifecycle.py
runs the same sequences with real Terraform against moto. The state store is a stand-in of the port
(`StateStore`), so a bucket that cannot be read, or a state format prenv does not know, can be shown.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prenv.aws.client import AwsError
from prenv.core import config as config_mod
from prenv.core.errors import Cancelled, FailureReason
from prenv.core.naming import names_for
from prenv.engine.lifecycle import Engine
from prenv.engine.process import Cancellation
from prenv.engine.terraform import Terraform, TerraformError

EMPTY = json.dumps({"version": 4, "serial": 3, "lineage": "l", "outputs": {}, "resources": []}).encode()
HOLDING = json.dumps(
    {
        "version": 4,
        "resources": [{"mode": "managed", "type": "aws_s3_bucket", "name": "data", "instances": [{}]}],
    }
).encode()
PLAN_OUTPUT = (
    "data.aws_vpc.default: Reading...\ndata.aws_vpc.default: Read complete after 0s [id=vpc-1]\n\n"
    "Terraform will perform the following actions:\n\nPlan: 1 to add, 0 to change, 0 to destroy.\n"
)


class Store:
    """A state store answering each read with the next of `bodies` (a body, None: no object, or an error)."""

    def __init__(self, *bodies: bytes | Exception | None) -> None:
        self.bodies: Iterator[bytes | Exception | None] = iter(bodies)
        self.reads = 0

    def state_body(self, workspace: str) -> bytes | None:
        self.reads += 1
        body = next(self.bodies)
        if isinstance(body, Exception):
            raise body
        return body

    def preview_workspaces(self) -> list[str]:
        return []


class Terraforms:
    """Canned answers per Terraform command; records (TF_WORKSPACE, command) of every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        words = [
            a for a in argv[1:] if not a.startswith("-") or a in ("-json", "-or-create", "-auto-approve")
        ]
        command = " ".join(w for w in words if "/" not in w)
        self.calls.append((kwargs["env"].get("TF_WORKSPACE", ""), command))
        answers = {
            "plan": (2, PLAN_OUTPUT),
            "show -json": (0, "{}"),
            "output -json": (0, "{}"),
            "workspace list": (0, "  default\n* pr-7\n"),
            "state list": (0, ""),
            "destroy -auto-approve": (0, "Destroy complete! Resources: 1 destroyed.\n"),
        }
        code, out = answers.get(command, (0, ""))
        return subprocess.CompletedProcess(argv, code, out, "")


def engine(tmp_path: Path, store: Store | None, runner: Terraforms) -> Engine:
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    (root / "main.tf").write_text('variable "pr_number" {}\n')
    (root / ".terraform.lock.hcl").write_text("")
    config = config_mod.parse(
        f"backend: {{bucket: b, region: us-east-1}}\nterraform: {{root: {root}}}\n",
        path=str(tmp_path / "prenv.yml"),
    )

    def factory(root: Path, data_dir: Path) -> Terraform:
        return Terraform(root=root, binary="terraform", env={}, data_dir=data_dir, runner=runner)

    return Engine(
        config=config,
        names=names_for(7, "o/r"),
        terraform_factory=factory,
        base_dir=tmp_path,
        backend={"bucket": "b"},
        states=store,
    )


UNREADABLE = AwsError("AWS S3 GetObject failed", code="AccessDenied", reason=FailureReason.AWS_REQUEST_FAILED)


@pytest.mark.parametrize(
    "store",
    [Store(EMPTY), Store(None), Store(UNREADABLE), None],
    ids=["exists", "no state", "bucket unreadable", "no store"],
)
def test_plan_names_the_workspace_and_never_creates_it(tmp_path: Path, store: Store | None) -> None:
    runner = Terraforms()
    with engine(tmp_path, store, runner) as eng:
        outcome, _, changed = eng.plan()
    assert changed
    assert runner.calls == [
        ("default", "init"),
        ("pr-7", "plan"),  # creates a workspace the backend does not list (tests/commands: for real)
        ("pr-7", "show -json"),  # the only show: the human plan is plan's own output
    ]
    assert outcome.plan_text == (
        "Terraform will perform the following actions:\n\nPlan: 1 to add, 0 to change, 0 to destroy.\n"
    )
    # Read beside init (it sets up the S3 client for the outputs), whatever the answer: nothing depends on it.
    assert store is None or store.reads == 1


def test_destroy_reads_the_state_object_instead_of_state_list(tmp_path: Path) -> None:
    runner, store = Terraforms(), Store(HOLDING, EMPTY)
    with engine(tmp_path, store, runner) as eng:
        outcome = eng.destroy()
    assert (outcome.existed, outcome.destroyed, outcome.workspace_deleted) == (True, 1, True)
    assert runner.calls == [
        ("default", "init"),
        ("pr-7", "destroy -auto-approve"),
        ("default", "workspace delete pr-7"),
    ]
    assert store.reads == 2  # before: does it exist; after: is it empty


def test_a_state_that_still_holds_resources_keeps_the_workspace(tmp_path: Path) -> None:
    runner = Terraforms()
    with engine(tmp_path, Store(HOLDING, HOLDING), runner) as eng, pytest.raises(TerraformError) as info:
        eng.destroy()
    assert info.value.reason is FailureReason.DESTROY_FAILED
    assert info.value.message == "terraform destroy left 1 resource(s) in workspace pr-7: aws_s3_bucket.data"
    assert "workspace delete pr-7" not in [command for _, command in runner.calls]


@pytest.mark.parametrize(
    "after",
    [UNREADABLE, b'{"version": 5, "resources": []}', b"not json", None],
    ids=["unreadable", "unknown version", "not JSON", "gone meanwhile"],
)
def test_without_an_answer_from_the_bucket_terraform_says_whether_the_state_is_empty(
    tmp_path: Path, after: bytes | Exception | None
) -> None:
    runner = Terraforms()
    with engine(tmp_path, Store(HOLDING, after), runner) as eng:
        assert eng.destroy().workspace_deleted
    assert runner.calls == [
        ("default", "init"),
        ("pr-7", "destroy -auto-approve"),
        ("pr-7", "state list"),
        ("default", "workspace delete pr-7"),
    ]


def test_an_unreadable_bucket_asks_terraform_whether_the_workspace_exists(tmp_path: Path) -> None:
    runner = Terraforms()
    with engine(tmp_path, Store(UNREADABLE, UNREADABLE), runner) as eng:
        assert eng.destroy().workspace_deleted
    assert runner.calls[:2] == [("default", "init"), ("", "workspace list")]


def test_nothing_to_destroy_is_one_init(tmp_path: Path) -> None:
    runner = Terraforms()
    with engine(tmp_path, Store(None), runner) as eng:
        assert not eng.destroy().existed
    assert runner.calls == [("default", "init")]


WITH_OUTPUTS = json.dumps(
    {
        "version": 4,
        "outputs": {
            "url": {"value": "http://pr-7.example/", "type": "string"},
            "arn": {"value": "arn:aws:ssm:us-east-1:1:parameter/x", "type": "string", "sensitive": True},
        },
        "resources": [],
    }
).encode()


@pytest.mark.parametrize(
    ("after", "calls"),
    [(WITH_OUTPUTS, []), (UNREADABLE, [("pr-7", "output -json")])],
    ids=["from the state object", "bucket unreadable"],
)
def test_the_outputs_after_apply_come_from_the_state_the_apply_wrote(
    tmp_path: Path, after: bytes | Exception, calls: list[tuple[str, str]]
) -> None:
    runner = Terraforms()
    with engine(tmp_path, Store(None, after), runner) as eng:
        planned, plan_file, changed = eng.plan()
        runner.calls.clear()
        outcome = eng.apply(planned, plan_file, changed)
    assert runner.calls == [("pr-7", "apply -auto-approve"), *calls]
    if not calls:
        assert outcome.url == "http://pr-7.example/"
        assert [(o.name, o.sensitive) for o in outcome.outputs] == [("arn", True), ("url", False)]


@pytest.mark.parametrize(
    ("stored", "found", "calls"),
    [
        (WITH_OUTPUTS, "http://pr-7.example/", []),  # the state object alone: no Terraform at all
        (None, None, []),
        (
            UNREADABLE,
            None,  # the canned `output -json` is {}
            [("default", "init"), ("", "workspace list"), ("pr-7", "output -json")],
        ),
    ],
    ids=["from the state object", "no workspace", "bucket unreadable"],
)
def test_reading_the_outputs(
    tmp_path: Path, stored: bytes | Exception | None, found: str | None, calls: list[tuple[str, str]]
) -> None:
    runner = Terraforms()
    with engine(tmp_path, Store(stored), runner) as eng:
        outputs = eng.read_outputs()
    assert runner.calls == calls
    assert (outputs or {}).get("url", {}).get("value") == found


class Concurrent(Terraforms):
    """Terraforms whose apply waits (up to a minute) until `show -json` has started, so a deploy that
    ran them one after the other fails; `fail` makes a command exit 1 with an error."""

    def __init__(self, *, plan_code: int = 2, fail: str = "") -> None:
        super().__init__()
        self.plan_code, self.fail = plan_code, fail
        self.show_started = threading.Event()
        self.ended: list[str] = []

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        done = super().__call__(argv, **kwargs)
        command = self.calls[-1][1]
        if command == "show -json":
            self.show_started.set()
        if command == "apply -auto-approve" and not self.show_started.wait(timeout=60):
            done = subprocess.CompletedProcess(argv, 1, "", "Error: show -json did not run beside it\n")
        if command == "plan":
            done = subprocess.CompletedProcess(argv, self.plan_code, PLAN_OUTPUT, "")
        if command == self.fail:
            done = subprocess.CompletedProcess(argv, 1, "", f"Error: {command} broke\n")
        self.ended.append(command)
        return done


def test_deploy_reads_the_plan_while_it_is_applied(tmp_path: Path) -> None:
    runner, told = Concurrent(), []
    with engine(tmp_path, Store(None, WITH_OUTPUTS), runner) as eng:
        outcome = eng.deploy(told.append)
    assert outcome.applied
    assert outcome.url == "http://pr-7.example/"
    assert [t.plan_text for t in told] == [outcome.plan_text]
    assert runner.calls[:2] == [("default", "init"), ("pr-7", "plan")]
    assert sorted(runner.calls[2:]) == [("pr-7", "apply -auto-approve"), ("pr-7", "show -json")]


def test_a_plan_without_changes_is_read_and_not_applied(tmp_path: Path) -> None:
    runner, told = Concurrent(plan_code=0), []
    with engine(tmp_path, Store(None, WITH_OUTPUTS), runner) as eng:
        outcome = eng.deploy(told.append)
    assert not outcome.applied
    assert len(told) == 1
    assert runner.calls == [("default", "init"), ("pr-7", "plan"), ("pr-7", "show -json")]


def test_a_failed_apply_is_the_error_and_the_plan_was_reported(tmp_path: Path) -> None:
    runner, told = Concurrent(fail="apply -auto-approve"), []
    with engine(tmp_path, Store(None, None), runner) as eng, pytest.raises(TerraformError) as info:
        eng.deploy(told.append)
    assert info.value.reason is FailureReason.APPLY_FAILED
    assert info.value.message == "terraform apply failed: apply -auto-approve broke"
    assert len(told) == 1


def test_a_failed_read_of_the_plan_waits_for_the_apply(tmp_path: Path) -> None:
    runner, told = Concurrent(fail="show -json"), []
    with engine(tmp_path, Store(None, None), runner) as eng, pytest.raises(TerraformError) as info:
        eng.deploy(told.append)
    assert info.value.reason is FailureReason.PLAN_FAILED
    assert told == []
    assert "apply -auto-approve" in runner.ended  # no Terraform runs on after the deploy failed


def test_a_report_that_fails_waits_for_the_apply_and_a_failed_apply_wins(tmp_path: Path) -> None:
    def broken(outcome: object) -> None:
        raise RuntimeError("the reporter broke")

    runner = Concurrent()
    with engine(tmp_path, Store(None, None), runner) as eng, pytest.raises(RuntimeError, match="broke"):
        eng.deploy(broken)
    assert "apply -auto-approve" in runner.ended

    runner = Concurrent(fail="apply -auto-approve")
    with engine(tmp_path, Store(None, None), runner) as eng, pytest.raises(TerraformError) as info:
        eng.deploy(broken)
    assert info.value.reason is FailureReason.APPLY_FAILED


# --- what main's deploy promised, kept with the apply beside `show -json` ------------------------------


@pytest.mark.parametrize(
    ("store", "creates"),
    [(Store(None), True), (Store(UNREADABLE), True), (Store(EMPTY), False)],
    ids=["no state", "bucket unreadable", "exists"],
)
def test_shared_mode_creates_the_workspace_before_its_database(
    tmp_path: Path, store: Store, creates: bool
) -> None:
    """`prepare` (shared mode: the PR's database) runs only once the workspace has a state: cleanup takes
    a database whose workspace has none for an orphan."""
    runner = Terraforms()
    with engine(tmp_path, store, runner) as eng:
        eng.plan(prepare=lambda: runner.calls.append(("", "prepare")))
    created = [("", "workspace select -or-create pr-7")] if creates else []
    assert runner.calls == [
        ("default", "init"),
        *created,  # TF_WORKSPACE emptied: Terraform refuses to select while it names a workspace
        ("", "prepare"),
        ("pr-7", "plan"),
        ("pr-7", "show -json"),
    ]


def test_deploy_says_when_the_apply_starts_and_when_it_ended(tmp_path: Path) -> None:
    runner = Concurrent()
    with engine(tmp_path, Store(None, WITH_OUTPUTS), runner) as eng:
        eng.deploy(
            lambda outcome: None,
            applying=lambda: runner.calls.append(("", "applying")),
            applied=lambda: runner.calls.append(("", "applied")),
        )
    commands = [command for _, command in runner.calls]
    assert commands.index("applying") < commands.index("apply -auto-approve") < commands.index("applied")

    runner = Concurrent(fail="apply -auto-approve")
    with engine(tmp_path, Store(None, None), runner) as eng, pytest.raises(TerraformError):
        eng.deploy(lambda outcome: None, applied=lambda: runner.calls.append(("", "applied")))
    assert ("", "applied") not in runner.calls


SECRET = "hunter2-plan-secret"


class SlowShow(Terraforms):
    """The apply fails at once, printing a value of the plan; `show -json` (which finds that value secret)
    ends only after the apply has: the failure must wait for the mask."""

    def __init__(self) -> None:
        super().__init__()
        self.apply_ended = threading.Event()

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        done = super().__call__(argv, **kwargs)
        command = self.calls[-1][1]
        if command == "apply -auto-approve":
            self.apply_ended.set()
            return subprocess.CompletedProcess(argv, 1, "", f"Error: db_password {SECRET} refused\n")
        if command == "show -json":
            assert self.apply_ended.wait(timeout=60)
            plan = {"variables": {"db_password": {"value": SECRET}}}
            return subprocess.CompletedProcess(argv, 0, json.dumps(plan), "")
        return done


def test_terraform_output_waits_until_the_plans_secrets_are_masked(tmp_path: Path) -> None:
    runner, events = SlowShow(), []
    with engine(tmp_path, Store(None, None), runner) as eng:
        eng.tf.verbose = True
        eng.tf.show = lambda title, text: events.append(("shown", title))
        eng.reveal = lambda values: events.append(("masked", ",".join(values)))
        with pytest.raises(TerraformError) as info:
            eng.deploy(lambda outcome: None)
    assert info.value.reason is FailureReason.APPLY_FAILED
    assert events[0] == ("masked", SECRET)  # before the plan's output, and the apply's failure
    shown = [title.split(" -")[0] for what, title in events if what == "shown"]
    assert shown == ["terraform plan", "terraform apply"]  # show -json: no stderr, and never its JSON


def test_a_cancelled_apply_is_the_error_and_no_terraform_starts_after_it(tmp_path: Path) -> None:
    """A signal during the apply: the apply's Terraform stops (its call raises `Cancelled`), `show -json`
    does not start once the run is cancelled, and the deploy raises only after the apply has ended."""
    cancellation = Cancellation()

    class Interrupted(Terraforms):
        def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
            done = super().__call__(argv, **kwargs)
            if self.calls[-1][1] == "apply -auto-approve":
                cancellation.received.append(signal.SIGINT)  # as the handler does, then Terraform stops
                return subprocess.CompletedProcess(argv, 1, "", "Interrupt received.\n")
            return done

    runner, phases = Interrupted(), []
    with engine(tmp_path, Store(None, None), runner) as eng:
        eng.tf.cancellation = cancellation
        with pytest.raises(Cancelled) as info:
            eng.deploy(
                lambda outcome: None,
                applying=lambda: phases.append("applying"),
                applied=lambda: phases.append("applied"),
            )
    assert info.value.message.startswith(
        "cancelled (SIGINT) during terraform apply: Terraform stopped gracefully"
    )
    assert phases == ["applying"]
    assert ("pr-7", "apply -auto-approve") in runner.calls
