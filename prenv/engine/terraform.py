"""The only place that runs Terraform (or OpenTofu).

Every call is an argument list (never a shell), non-interactive (`-input=false`, `TF_IN_AUTOMATION=1`),
uncoloured, with a lock timeout where the command takes a lock, and machine-readable output where one
exists. Output is captured; it is printed when a call fails or with `--verbose`, inside an Actions log
group. Failures are raised as `TerraformError` with a `failure-reason`.

Terraform runs through `prenv.engine.process` (its own process group; a signal to prenv is passed on
to it once, and prenv waits for its graceful stop): a call that a signal interrupted raises `Cancelled`.

Each workspace gets its own data directory (`TF_DATA_DIR`), so several workspaces of one root can be
planned, applied or destroyed at the same time (as `prenv cleanup` does) without sharing the
"current workspace" file. The workspace a call works in is named by `TF_WORKSPACE` (Terraform's own
override of the selected one), so no call is spent selecting it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from prenv import USER_AGENT
from prenv.core.errors import Cancelled, ExitStatus, FailureReason, PrenvError
from prenv.engine.process import CANCELLATION, Cancellation


@dataclass(frozen=True)
class LockInfo:
    """Who holds a state lock, parsed from Terraform's "Error acquiring the state lock" message."""

    id: str
    path: str = ""
    operation: str = ""
    who: str = ""
    version: str = ""
    created: str = ""


class TerraformError(PrenvError):
    def __init__(
        self,
        message: str,
        *,
        reason: FailureReason,
        hint: str = "",
        detail: str = "",
        lock: LockInfo | None = None,
        args: Sequence[str] = (),
    ) -> None:
        super().__init__(message, reason=reason, hint=hint, detail=detail, exit_status=ExitStatus.FAILURE)
        self.lock = lock
        self.command = tuple(args)


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


_LOCK_FIELDS = {
    "ID": "id",
    "Path": "path",
    "Operation": "operation",
    "Who": "who",
    "Version": "version",
    "Created": "created",
}
_LOCK_LINE = re.compile(r"^[\s│]*(ID|Path|Operation|Who|Version|Created):\s*(.*?)\s*$", re.MULTILINE)


def parse_lock_info(text: str) -> LockInfo | None:
    """The `Lock Info:` block of a state-lock error, or None when `text` is not one."""
    # The last: the S3 backend creating a new workspace whose lock another run holds (no lock timeout).
    markers = ("Error acquiring the state lock", "Error locking state", "failed to lock s3 state")
    if not any(marker in text for marker in markers):
        return None
    _, _, block = text.partition("Lock Info:")
    found = {_LOCK_FIELDS[key]: value for key, value in _LOCK_LINE.findall(block)}
    return LockInfo(**found) if found.get("id") else LockInfo(id="")


def _duration_flag(value: timedelta) -> str:
    return f"{int(value.total_seconds())}s"


def find_binary(name: str, path: str | None) -> str:
    """The Terraform executable `name` (PRENV_TERRAFORM, else the configured one, else `terraform`),
    found on `path` (the PATH prenv was given)."""
    found = shutil.which(name, path=path)
    if not found:
        raise PrenvError(
            f"{name} not found on PATH",
            reason=FailureReason.TERRAFORM_NOT_FOUND,
            hint="install Terraform >= 1.11 (or set PRENV_TERRAFORM to the binary, such as tofu)",
        )
    return found


class Printer(Protocol):
    """Where captured output goes when it is shown (the CLI's stderr, inside an Actions group)."""

    def __call__(self, title: str, text: str) -> None: ...


def _no_print(title: str, text: str) -> None:
    return None


class Progress(Protocol):
    """Follows each Terraform command while it runs, its output line by line as Terraform prints it:
    `prenv sandbox`'s progress lines. Optional; without one, output is only captured."""

    def started(self, command: str) -> None: ...

    def line(self, command: str, text: str) -> None: ...

    def finished(self, command: str, returncode: int) -> None: ...


def run_streaming(
    argv: Sequence[str], *, on_line: Callable[[str], None], cwd: Path, env: Mapping[str, str], **_: Any
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run(argv, capture_output=True, text=True)` that also hands each line of stdout to
    `on_line` as the process prints it. An error in `on_line` never stops the process (its state and
    lock stay Terraform's to release): it is raised once the process has exited."""
    failure: list[BaseException] = []
    errors: list[str] = []
    with subprocess.Popen(  # noqa: S603 - an argument list (never a shell): the Terraform binary's
        list(argv), cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        stdout, stderr = process.stdout, process.stderr
        if stdout is None or stderr is None:  # pragma: no cover - both are pipes
            raise RuntimeError("no pipes to read Terraform's output from")
        reader = threading.Thread(target=lambda: errors.append(stderr.read()), daemon=True)
        reader.start()
        lines: list[str] = []
        try:
            for line in stdout:
                lines.append(line)
                try:
                    on_line(line.rstrip("\n"))
                except Exception as exc:  # the hook only shows progress: keep reading, raise at the end
                    failure = failure or [exc]
            process.wait()
        except BaseException:  # as subprocess.run does
            process.kill()
            process.wait()
            raise
        reader.join()
    if failure:
        raise failure[0]
    return subprocess.CompletedProcess(list(argv), process.returncode, "".join(lines), "".join(errors))


@dataclass(frozen=True)
class SavedPlan:
    """A plan `terraform plan -out` saved: its file, whether it changes anything, and plan's output.
    Not a bool: mypy's truthy-bool check refuses `if tf.plan(...)` (a tuple here was always true)."""

    file: Path
    changed: bool
    output: str


@dataclass
class Terraform:
    """Runs one Terraform root directory with `binary` (`find_binary()`) and the environment prenv was
    given (credentials reach Terraform only through it)."""

    root: Path
    binary: str
    env: Mapping[str, str]
    # The workspace of every call (TF_WORKSPACE) but `init`, `workspace select` and `workspace delete`;
    # empty: the one the data directory selected.
    workspace: str = ""
    lock_timeout: timedelta = timedelta(minutes=2)
    data_dir: Path | None = None
    verbose: bool = False
    show: Printer = _no_print
    runner: Callable[..., subprocess.CompletedProcess[str]] = CANCELLATION.run
    progress: Progress | None = None
    calls: list[Result] = field(default_factory=list)
    _held: list[tuple[str, str]] | None = None  # output shown when `holding()` ends
    cancellation: Cancellation = field(default_factory=lambda: CANCELLATION)
    user_agent: str = USER_AGENT  # appended to the AWS provider's User-Agent (prenv setup: its own)
    # Two calls may run at once (a deploy reads its plan beside the apply): their output is shown whole,
    # and held or shown under this lock.
    _showing: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def environment(self) -> dict[str, str]:
        env = dict(self.env)
        env.update({"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"})
        env.pop("TF_WORKSPACE", None)  # the workspace is ours to name
        if self.workspace:
            env["TF_WORKSPACE"] = self.workspace
        env.pop("TF_CLI_ARGS", None)  # arguments are ours alone
        # The AWS provider and the S3 backend append this to their User-Agent (prenv's runs, in CloudTrail);
        # a suffix the caller's environment already sets is kept in front of ours (composed, not configured).
        user_suffix = env.pop("TF_APPEND_USER_AGENT", "")
        env["TF_APPEND_USER_AGENT"] = f"{user_suffix} {self.user_agent}".strip()
        if self.data_dir is not None:
            env["TF_DATA_DIR"] = str(self.data_dir)
        return env

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Output shown by the calls inside (with `--verbose`, or of a failure) is shown when the block
        ends, so the values it may hold can be masked first. A failure's output is held too: its error
        leaves the block at once (and so shows it), unless a call beside it is still running (a deploy's
        apply beside its `show -json`), whose values are masked before anything is shown. Calls in
        other threads started inside the block must end inside it."""
        with self._showing:
            self._held = []
        try:
            yield
        finally:
            with self._showing:
                held, self._held = self._held or [], None
                for title, text in held:
                    self.show(title, text)

    def _show(self, title: str, text: str) -> None:
        with self._showing:
            if self._held is not None:
                self._held.append((title, text))
            else:
                self.show(title, text)

    def run(
        self,
        args: Sequence[str],
        *,
        reason: FailureReason,
        what: str,
        ok: Sequence[int] = (0,),
        hint: str = "",
        env: Mapping[str, str] | None = None,
        after_cancel: bool = False,
    ) -> Result:
        """Run `terraform <args>` (with `env` added to the environment); raise TerraformError
        (classified) unless the exit code is in `ok`. Once the run is cancelled nothing starts, except
        with `after_cancel`."""
        argv = (self.binary, *args)
        title = "terraform " + " ".join(a for a in args if not a.startswith("-backend-config="))
        if self.cancellation.requested and not after_cancel:
            raise cancelled_before(self.cancellation, what)
        start = time.monotonic()
        started = time.time()
        options = {"after_cancel": True} if after_cancel else {}
        runner, progress = self.runner, self.progress
        if progress is not None:  # the sandbox follows Terraform line by line (its cancel: Ctrl-C kills it)
            runner = partial(run_streaming, on_line=partial(progress.line, args[0]))
            progress.started(args[0])
        returncode = -1
        try:
            done = runner(
                list(argv),
                cwd=self.root,
                env={**self.environment(), **(env or {})},
                capture_output=True,
                text=True,
                check=False,
                **options,
            )
            returncode = done.returncode
        except OSError as exc:
            raise PrenvError(
                f"cannot run {self.binary}: {exc}",
                reason=FailureReason.TERRAFORM_NOT_FOUND,
                hint="check that the Terraform binary exists and is executable",
            ) from exc
        except KeyboardInterrupt:  # the run was cancelled just before Terraform could start
            raise cancelled_before(self.cancellation, what) from None
        finally:
            if progress is not None:
                progress.finished(args[0], returncode)
        result = Result(tuple(argv), done.returncode, done.stdout, done.stderr, time.monotonic() - start)
        self.calls.append(result)
        # Machine-readable output (`show -json`, `output -json`) holds every value, sensitive ones too:
        # it is never shown, only what Terraform wrote to stderr.
        shown = result.stderr if "-json" in args else result.stdout + result.stderr
        if self.cancellation.requested and not after_cancel:
            self._show(title, shown.rstrip())
            cancelled = cancelled_during(self.cancellation, what, result)
            cancelled.since = started
            cancelled.detail_shown = True
            raise cancelled
        failed = result.returncode not in ok
        if failed or (self.verbose and shown.strip()):
            self._show(title, shown.rstrip())
        if failed:
            error = self._classify(result, reason=reason, what=what, hint=hint)
            error.detail_shown = True
            raise error
        return result

    def _classify(self, result: Result, *, reason: FailureReason, what: str, hint: str) -> TerraformError:
        text = result.stderr + result.stdout
        lock = parse_lock_info(text)
        if lock is not None:
            held = f" held by {lock.who}" if lock.who else ""
            since = f" since {lock.created}" if lock.created else ""
            op = f" ({lock.operation})" if lock.operation else ""
            return TerraformError(
                f"the state is locked: lock {lock.id or '(unknown ID)'}{held}{since}{op}",
                reason=FailureReason.STATE_LOCKED,
                hint=(
                    "wait for the other run to finish and retry; if no run holds it, release it with "
                    f"`prenv unlock --pr <N> --lock-id {lock.id}`"
                ),
                detail=text.strip(),
                lock=lock,
                args=result.args,
            )
        first = _first_error(text)
        message = f"{what} failed" + (f": {first}" if first else f" (exit {result.returncode})")
        return TerraformError(message, reason=reason, hint=hint, detail=text.strip(), args=result.args)

    # --- commands -------------------------------------------------------------------------------

    def version(self) -> str:
        out = self.run(
            ["version", "-json"], reason=FailureReason.INIT_FAILED, what="terraform version"
        ).stdout
        return str(json.loads(out).get("terraform_version", ""))

    def init(self, backend_config: Mapping[str, str], *, migrate_state: bool = False) -> None:
        """Initialise the backend as if `default` were selected: the workspace a data directory last
        selected may have been deleted since (the PR's preview destroyed, here or by another run's
        cleanup), and Terraform's init refuses a selected workspace that does not exist.

        `migrate_state`: copy the state of the backend the data directory last used into this one
        (`prenv setup` moves the bootstrap's first, local state into the bucket it created)."""
        args = ["init", "-input=false", "-no-color", f"-lock-timeout={_duration_flag(self.lock_timeout)}"]
        args += ["-migrate-state", "-force-copy"] if migrate_state else []
        args += [f"-backend-config={key}={value}" for key, value in backend_config.items()]
        self.run(
            args,
            reason=FailureReason.INIT_FAILED,
            what="terraform init",
            hint="check the backend settings in the config and the AWS credentials",
            env={"TF_WORKSPACE": "default"},
        )

    def workspaces(self) -> list[str]:
        out = self.run(
            ["workspace", "list", "-no-color"],
            reason=FailureReason.WORKSPACE_FAILED,
            what="terraform workspace list",
        ).stdout
        return [line.strip("* ").strip() for line in out.splitlines() if line.strip("* ").strip()]

    def select_workspace(self, name: str, *, create: bool) -> None:
        """Select `name` in the data directory (creating it when `create`). Terraform refuses to select
        while TF_WORKSPACE names one, so this call runs without it."""
        args = ["workspace", "select", "-no-color"] + (["-or-create"] if create else []) + [name]
        self.run(
            args,
            reason=FailureReason.WORKSPACE_FAILED,
            what=f"terraform workspace select {name}",
            env={"TF_WORKSPACE": ""},  # Terraform treats an empty TF_WORKSPACE as unset
        )

    def delete_workspace(self, name: str) -> None:
        """Delete a workspace; Terraform itself refuses when its state still holds resources (no -force).

        Terraform will not delete the selected workspace, so this one call runs as if `default` were
        selected (TF_WORKSPACE, Terraform's own override of the selected workspace)."""
        self.run(
            ["workspace", "delete", "-no-color", f"-lock-timeout={_duration_flag(self.lock_timeout)}", name],
            reason=FailureReason.DESTROY_FAILED,
            what=f"terraform workspace delete {name}",
            env={"TF_WORKSPACE": "default"},
        )

    def plan(self, plan_file: Path, var_file: Path | None, *, destroy: bool = False) -> SavedPlan:
        """Save a plan to `plan_file`: whether it has changes (exit code 2 of -detailed-exitcode), and
        Terraform's output (the human-readable plan, `prenv.core.plan.human_plan` cuts it out)."""
        args = [
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            f"-lock-timeout={_duration_flag(self.lock_timeout)}",
            f"-out={plan_file}",
        ]
        args += [f"-var-file={var_file}"] if var_file else []
        args += ["-destroy"] if destroy else []
        result = self.run(
            args,
            reason=FailureReason.PLAN_FAILED,
            what="terraform plan",
            ok=(0, 2),
            hint="fix the Terraform error above and push again",
        )
        return SavedPlan(file=plan_file, changed=result.returncode == 2, output=result.stdout)

    def show_json(self, plan_file: Path) -> dict[str, Any]:
        out = self.run(
            ["show", "-json", "-no-color", str(plan_file)],
            reason=FailureReason.PLAN_FAILED,
            what="terraform show -json",
        ).stdout
        data: dict[str, Any] = json.loads(out)
        return data

    def apply(self, plan_file: Path) -> None:
        self.run(
            [
                "apply",
                "-input=false",
                "-no-color",
                "-auto-approve",
                f"-lock-timeout={_duration_flag(self.lock_timeout)}",
                str(plan_file),
            ],
            reason=FailureReason.APPLY_FAILED,
            what="terraform apply",
            hint="read the error above; fix the Terraform or the app and push again, or re-run the job",
        )

    def outputs(self) -> dict[str, Any]:
        out = self.run(
            ["output", "-json", "-no-color"], reason=FailureReason.OUTPUT_FAILED, what="terraform output"
        ).stdout
        data: dict[str, Any] = json.loads(out or "{}")
        return data

    def destroy(self, var_file: Path | None) -> int | None:
        """Destroy the selected workspace's resources; how many, as Terraform reports it (None if it
        did not say)."""
        args = [
            "destroy",
            "-input=false",
            "-no-color",
            "-auto-approve",
            f"-lock-timeout={_duration_flag(self.lock_timeout)}",
        ]
        args += [f"-var-file={var_file}"] if var_file else []
        result = self.run(
            args,
            reason=FailureReason.DESTROY_FAILED,
            what="terraform destroy",
            hint="the workspace and its state were kept; fix the cause and run `prenv destroy` again",
        )
        return destroyed_count(result.stdout)

    def state_list(self) -> list[str]:
        out = self.run(
            ["state", "list"], reason=FailureReason.DESTROY_FAILED, what="terraform state list"
        ).stdout
        return [line for line in out.splitlines() if line.strip()]

    def state_rm(self, addresses: Sequence[str]) -> None:
        """Stop tracking `addresses` (the resources stay): `prenv setup --destroy` removes the state
        bucket, which Terraform may not destroy (`prevent_destroy`), itself."""
        self.run(
            ["state", "rm", f"-lock-timeout={_duration_flag(self.lock_timeout)}", *addresses],
            reason=FailureReason.DESTROY_FAILED,
            what=f"terraform state rm {' '.join(addresses)}",
        )

    def force_unlock(self, lock_id: str, *, after_cancel: bool = False) -> None:
        self.run(
            ["force-unlock", "-force", lock_id],
            reason=FailureReason.UNLOCK_FAILED,
            what=f"terraform force-unlock {lock_id}",
            after_cancel=after_cancel,
        )


def cancelled_before(cancellation: Cancellation, title: str) -> Cancelled:
    return Cancelled(
        f"cancelled ({cancellation.describe()}) before {title} started",
        signal_name=cancellation.first(),
        escalated=cancellation.escalated,
        hint="nothing was left running; run the command again to go on",
    )


def cancelled_during(cancellation: Cancellation, title: str, result: Result) -> Cancelled:
    """What a cancelled Terraform call left: after one signal Terraform stopped gracefully (its state
    written, its lock released); after two it was stopped at once (state written at the first signal,
    but its lock may still be held)."""
    how = cancellation.describe()
    if not cancellation.escalated:
        return Cancelled(
            f"cancelled ({how}) during {title}: Terraform stopped gracefully (exit {result.returncode}), "
            "saved the state of what it had changed and released its lock",
            signal_name=cancellation.first(),
            hint="run the command again: it goes on from the saved state, no `prenv unlock` needed",
            detail=result.stderr + result.stdout,
        )
    return Cancelled(
        f"cancelled ({how}) during {title}: Terraform was stopped before it finished stopping; its "
        "state was saved at the first signal, but its lock may still be held",
        signal_name=cancellation.first(),
        escalated=True,
        hint="run the command again; if it reports state-locked, release that lock with `prenv unlock`",
        detail=result.stderr + result.stdout,
    )


_DESTROYED = re.compile(r"^Destroy complete! Resources: (\d+) destroyed\.", re.MULTILINE)


def destroyed_count(text: str) -> int | None:
    """N of Terraform's `Destroy complete! Resources: N destroyed.` (pure); None when it is absent."""
    match = _DESTROYED.search(text)
    return int(match.group(1)) if match else None


_ERROR_LINE = re.compile(r"^(?:│\s*)?Error:\s*(.+?)\s*$", re.MULTILINE)


def _first_error(text: str) -> str:
    match = _ERROR_LINE.search(text)
    return match.group(1) if match else ""
