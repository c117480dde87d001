"""The lifecycle of one preview on Terraform: deploy (plan + apply the saved plan), plan, destroy,
reading the outputs, releasing a stale lock.

This module decides the order of the Terraform calls and what is safe; `terraform.py` runs them. The
one rule it exists to keep: a workspace is deleted only after a destroy left its state empty (what
`terraform state list` would print: nothing). Nothing else deletes state.

Every Terraform process that loads the provider costs seconds, so the engine starts no process for what
the state bucket answers (`StateStore`): whether the workspace exists (its state object does), what
its state still holds, its outputs. A deploy is `init`, `plan` (which creates a new workspace; in
shared mode the workspace is created before the database: see `_open_workspace`), then `apply` of that
plan (when it changes anything) with `show -json` of the same plan beside it (see `deploy`); a destroy
is `init`, `destroy`, `workspace delete`. Where the bucket cannot
answer (no store, a read that fails, a state format prenv does not know), Terraform is asked:
`workspace list`, `state list`, `output -json`.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from prenv.core import contract, naming, tfstate
from prenv.core import plan as planmod
from prenv.core.config import Config
from prenv.core.cost import plan_cost
from prenv.core.domain import DeployOutcome, DestroyOutcome, PlanOutcome, outputs_of, sensitive_values
from prenv.core.errors import ConfigError, FailureReason, PrenvError
from prenv.core.naming import Names
from prenv.core.phases import Stopwatch
from prenv.core.prices import bundled_prices
from prenv.core.secrets import plan_secrets
from prenv.engine.dirlock import DirectoryLock
from prenv.engine.terraform import SavedPlan, Terraform, TerraformError

_FIRST_INIT = threading.Lock()
_VARIABLE = re.compile(r'^\s*variable\s+"([A-Za-z_][A-Za-z0-9_-]*)"', re.MULTILINE)

TerraformFactory = Callable[[Path, Path], Terraform]  # (root, data_dir) -> Terraform


class StateStore(Protocol):
    """Where the S3 backend keeps the workspaces' states (`prenv.aws.state_bucket.StateBucket`)."""

    def state_body(self, workspace: str) -> bytes | None:
        """The state object's body; None when the workspace has none. Raises what a failed read raises."""
        ...

    def preview_workspaces(self) -> list[str]:
        """Every workspace with a state that the workspace pattern names a preview."""
        ...


@dataclass(frozen=True)
class StoredState:
    """What the state bucket says of one workspace's state."""

    answered: bool  # False: the bucket could not be read (or there is no store): ask Terraform
    exists: bool = False  # its state object exists, so the workspace does
    document: Mapping[str, Any] | None = None  # the state, when the object is a JSON object


def declared_variables(root: Path) -> set[str] | None:
    """The variables a root declares (`variable "x"` blocks), or None when they cannot be read."""
    names: set[str] = set()
    try:
        for path in root.glob("*.tf"):
            names.update(_VARIABLE.findall(path.read_text(encoding="utf-8")))
        for path in root.glob("*.tf.json"):
            document = json.loads(path.read_text(encoding="utf-8"))
            variables = document.get("variable", {}) if isinstance(document, dict) else {}
            names.update(variables if isinstance(variables, dict) else [])
    except (OSError, ValueError):
        return None
    return names


# The root's variables for the init steps (config hooks.migrate, hooks.seed): argument lists.
HOOK_VARIABLES = {"migrate": "migrate_command", "seed": "seed_command"}


def hook_variables(config: Config, *, seed: bool, declared: set[str] | None) -> dict[str, list[str]]:
    """The init steps' commands for the root; the seed's only when `seed` (the preview's first deploy,
    or `--reseed`). A hook set in the config that the root cannot take is a configuration error."""
    commands = {"migrate": config.hooks.migrate, "seed": config.hooks.seed if seed else []}
    for hook, variable in HOOK_VARIABLES.items():
        if getattr(config.hooks, hook) and declared is not None and variable not in declared:
            raise ConfigError(
                f"{config.path}: hooks.{hook} is set, but the Terraform root {config.terraform.root} "
                f"declares no variable {variable!r} to run it",
                hint=f'use prenv\'s preview root, or declare `variable "{variable}"` (a list of strings) '
                "in yours and run it before the app starts",
            )
    return {
        variable: list(commands[hook])
        for hook, variable in HOOK_VARIABLES.items()
        if (variable in declared if declared is not None else bool(getattr(config.hooks, hook)))
    }


def variables(
    config: Config, names: Names, *, head_sha: str, image: str, declared: set[str] | None, seed: bool = False
) -> dict[str, Any]:
    """The values prenv passes to the root: its own and the app contract's settings (only those the root
    declares), then the config's `terraform.variables`."""
    own: dict[str, Any] = {
        "pr_number": names.pr_number,
        "workspace": names.workspace,
        "name_prefix": names.name_prefix,
        "repository": names.repository,
        "database_mode": config.database.mode,
    }
    if head_sha:
        own["head_sha"] = head_sha
    if image:
        own["image"] = image
    own.update(contract.root_variables(config.app.port, config.app.health_path, config.app.environment))
    if declared is not None:
        own = {key: value for key, value in own.items() if key in declared}
    return {**own, **hook_variables(config, seed=seed, declared=declared), **config.terraform.variables}


@dataclass
class Engine:
    """Runs the lifecycle of one workspace of `config`'s Terraform root."""

    config: Config
    names: Names
    terraform_factory: TerraformFactory
    base_dir: Path
    backend: Mapping[str, str]  # the -backend-config settings (`prenv.core.config.backend_settings`)
    head_sha: str = ""
    image: str = ""
    # Told every secret value as soon as it is known, before Terraform's output that may show it is
    # printed (the wiring masks them in the log).
    reveal: Callable[[Sequence[str]], None] = lambda values: None
    # The root to run when the config names none: the working copy of the root shipped with prenv.
    bundled_root: Path | None = None
    watch: Stopwatch | None = None  # times the phases (`prenv.core.phases`) when given
    seed: bool = False  # pass hooks.seed to the root: the preview's first deploy, or --reseed
    states: StateStore | None = None  # None: Terraform is asked what the bucket would answer

    def __post_init__(self) -> None:
        self.root = self._root()
        data_dir = self.root / ".terraform" / "prenv" / self.names.workspace
        self.tf = self.terraform_factory(self.root, data_dir)
        self._dir_lock = DirectoryLock(data_dir, self.names.workspace)
        self._work = tempfile.TemporaryDirectory(prefix="prenv-")
        self.work_dir = Path(self._work.name)

    def _root(self) -> Path:
        configured = self.config.root_path(self.base_dir)
        if configured is None:
            if self.bundled_root is None:  # the wiring always passes one
                raise ValueError("the config names no Terraform root and no bundled root was given")
            return self.bundled_root.resolve()
        root = configured.resolve()
        if not root.is_dir():
            raise TerraformError(
                f"the Terraform root {root} does not exist",
                reason=FailureReason.INIT_FAILED,
                hint=f"set terraform.root in {self.config.path} to the directory of the preview's "
                "Terraform, or remove it to run the preview root shipped with prenv",
            )
        return root

    def close(self) -> None:
        self._dir_lock.release()
        self._work.cleanup()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def var_file(self) -> Path:
        values = variables(
            self.config,
            self.names,
            head_sha=self.head_sha,
            image=self.image,
            declared=declared_variables(self.root),
            seed=self.seed,
        )
        path = self.work_dir / "prenv.tfvars.json"
        path.write_text(json.dumps(values, indent=2, sort_keys=True), encoding="utf-8")
        return path

    def init(self) -> None:
        """`terraform init` in this workspace's own data directory.

        Inits of one root may run at once (cleanup destroys in parallel); only the first one writes the
        root's dependency lock file, so inits wait for each other until that file exists. A run of the
        same workspace in another process waits (`DirectoryLock`) up to the lock timeout.
        """
        self._dir_lock.acquire(self.config.terraform.lock_timeout)
        if (self.root / ".terraform.lock.hcl").exists():
            self.tf.init(self.backend)
            return
        with _FIRST_INIT:
            self.tf.init(self.backend)

    @contextlib.contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        with self.watch.phase(name) if self.watch else contextlib.nullcontext():
            yield

    # --- lifecycle --------------------------------------------------------------------------------

    def stored_state(self) -> StoredState:
        """The workspace's state as the bucket holds it (one S3 read, no Terraform process). A read that
        fails is no answer: Terraform is asked instead, and reports the problem if there is one."""
        if self.states is None:
            return StoredState(answered=False)
        try:
            body = self.states.state_body(self.names.workspace)
        except PrenvError:
            return StoredState(answered=False)
        if body is None:
            return StoredState(answered=True)
        return StoredState(answered=True, exists=True, document=tfstate.parse(body))

    def init_reading_state(self) -> StoredState:
        """`init`, and meanwhile the read of the workspace's state: the S3 client's start-up and the read
        overlap Terraform's (init works as if `default` were selected, and writes no state of ours)."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prenv-state") as pool:
            stored = pool.submit(self.stored_state)
            self.init()
            return stored.result()

    def _exists(self, stored: StoredState) -> bool:
        """Whether the workspace exists: its state object does (the S3 backend's own definition), else
        as `terraform workspace list` says."""
        if stored.answered:
            return stored.exists
        return self.names.workspace in self.tf.workspaces()

    def outputs(self, stored: StoredState | None = None) -> dict[str, Any]:
        """The root's outputs as `output -json` prints them, from the state object (`stored`, else read
        now): that is where `terraform output` reads them. `output -json` when the bucket cannot answer."""
        stored = stored or self.stored_state()
        found = tfstate.outputs(stored.document) if stored.exists else None
        return self.tf.outputs() if found is None else found

    def _previews(self) -> list[str]:
        """Every workspace of the bucket, for the cap (the bucket's listing, else Terraform's)."""
        if self.states is not None:
            try:
                return self.states.preview_workspaces()
            except PrenvError:
                pass
        return self.tf.workspaces()

    def _open_workspace(
        self, prepare: Callable[[], None] | None, before_plan: Callable[[], None] | None = None
    ) -> None:
        """init (phase `init`), then `before_plan` (a deploy: wake a sleeping preview, whose record was
        read beside init), then `prepare` (shared mode: the PR's database; it times itself as the phase
        `database`); from then on every call works in the PR's workspace (TF_WORKSPACE).

        Without `prepare` no call creates or selects the workspace: the S3 backend's own `StateMgr`,
        which `plan` opens the workspace's state through, creates a workspace it does not list (under
        the state lock: it takes the lock, re-reads, writes an empty state only when there is none, so
        a workspace another run created meanwhile is used as is). That is the code `terraform workspace
        new` runs; the reopen and deleted-workspace tests hold it.

        With `prepare` the workspace is created first when the bucket does not show its state (one
        `workspace select -or-create`, in shared mode only): cleanup takes a PR's database whose
        workspace has no state for an orphan (`prenv.core.cleanup.find_orphan_databases`), so a database
        made before the plan created the workspace could be dropped by a cleanup running meanwhile, and
        the plan would then read the secret of a database that is gone.
        """
        with self._phase("init"):
            # Read beside init even when its answer is not needed (`plan` creates a missing workspace):
            # it sets up the S3 client (boto3's import and configuration: a few tenths of a second) while
            # Terraform's init runs, for the read of the outputs once the apply has written them.
            stored = self.init_reading_state()
            if self.config.max_previews:
                self.check_cap(self._previews())
            if prepare is not None and not (stored.answered and stored.exists):
                self.tf.select_workspace(self.names.workspace, create=True)
        if before_plan is not None:
            before_plan()
        if prepare is not None:
            prepare()
        self.tf.workspace = self.names.workspace

    def _save_plan(self) -> SavedPlan:
        """Save a plan of the workspace to a file (phase `plan`); call inside `tf.holding()`, which shows
        plan's output once the plan's secrets are masked (`_read_plan`)."""
        plan_file = self.work_dir / "preview.tfplan"
        with self._phase("plan"):
            return self.tf.plan(plan_file, self.var_file())

    def _read_plan(self, saved: SavedPlan) -> PlanOutcome:
        """The saved plan as the reports show it, from one `show -json`: its summary, its secrets (told to
        `reveal` at once, so the output held until then is masked), its cost; and the human-readable plan
        (`plan`'s own output, cut by `prenv.core.plan.human_plan`: no second `show`)."""
        document = self.tf.show_json(saved.file)
        secrets = plan_secrets(document, self.config.secret_names)
        self.reveal(secrets)
        return PlanOutcome(
            summary=planmod.summarize(document),
            plan_text=planmod.human_plan(saved.output),
            secrets=secrets,
            plan_cost=plan_cost(document, bundled_prices()),  # issue 17: the cost comes from the plan
        )

    def plan(self, *, prepare: Callable[[], None] | None = None) -> tuple[PlanOutcome, Path, bool]:
        """init, save a plan, read it (nothing applied: `prenv plan`, and tests that apply it with
        `apply`). Returns the plan, its file and 'has changes'. Phases: init, database (by `prepare`),
        plan (`plan` and `show -json`).

        `prepare` runs once the workspace exists and before the plan (shared mode: the database the
        root reads must exist by then, and exists only while its workspace does)."""
        self._open_workspace(prepare)
        with self.tf.holding():  # Terraform's output is shown once the plan's secrets are masked
            saved = self._save_plan()
            with self._phase("plan"):
                outcome = self._read_plan(saved)
        return outcome, saved.file, saved.changed

    def deploy(
        self,
        planned: Callable[[PlanOutcome], None],
        *,
        prepare: Callable[[], None] | None = None,
        before_plan: Callable[[], None] | None = None,
        applying: Callable[[], None] = lambda: None,
        applied: Callable[[], None] = lambda: None,
    ) -> DeployOutcome:
        """Save a plan and apply exactly it; `planned` is told the plan (`_read_plan`) while it applies.
        `prepare` as in `plan`; `before_plan` runs once init has ended, before `prepare` and the plan,
        and creates no workspace (a deploy wakes a sleeping preview there); `applying` is called just
        before the apply starts and `applied` once it ended without an error (from the apply's thread),
        so the caller knows what a cancellation left.

        The apply of the saved plan starts as soon as the plan is saved, and `show -json` of the same
        plan file runs beside it (two processes that each load the provider: seconds of a deploy).
        That is as safe as reading the plan first, because nothing read from the plan decides whether
        it is applied: the summary, the risky changes, the cost and the human-readable plan are
        reported, not gates (a deploy applies every plan it saved; the `plan` exit code alone says
        whether there is anything to apply). Were a gate ever added (refusing to replace a stateful
        resource, say), it must run between `_save_plan` and the apply, from the plan file, not here.

        Terraform's output (with `--verbose`, or a failure's) is held from the plan until the plan's
        secrets and the outputs' are masked: the apply may print the plan's values, and it may end (or
        fail) before `show -json` has told them; a failure's output is shown as its error leaves.

        Whatever happens to `show -json` or to `planned`, the apply is waited for before anything is
        raised, so no Terraform runs on after the deploy returns (a cancellation reaches both processes:
        `prenv.engine.process`); a failed apply is the error raised (the preview's state is what
        matters), else the first error of the plan's reading.

        Phases: init; database (shared mode); plan: `terraform plan` (and, with nothing to apply, its
        `show -json`); apply: from the apply's start until it and the plan's reading beside it (`show
        -json`, `planned`) both ended, then the outputs (with nothing to apply: the outputs). The phases
        follow each other, so their sum is still the deploy's time; `show -json` is timed inside
        `apply` when it runs beside the apply."""
        self._open_workspace(prepare, before_plan)
        with self.tf.holding():
            saved = self._save_plan()
            if not saved.changed:
                with self._phase("plan"):
                    outcome = self._read_plan(saved)
                planned(outcome)
                with self._phase("apply"):  # nothing to apply: the outputs
                    return self._deployed(outcome, applied=False)
            applying()
            with self._phase("apply"):
                with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prenv-apply") as pool:
                    done = pool.submit(self._apply_saved, saved.file, applied)
                    try:
                        outcome = self._read_plan(saved)
                        planned(outcome)
                    except BaseException:
                        failed = done.exception()  # waits for the apply to end
                        if failed is not None:
                            raise failed from None
                        raise
                    done.result()
                return self._deployed(outcome, applied=True)

    def _apply_saved(self, plan_file: Path, applied: Callable[[], None]) -> None:
        self.tf.apply(plan_file)
        applied()

    def check_cap(self, workspaces: list[str]) -> None:
        """Refuse a new preview when `max_previews` previews already exist (an existing one may update)."""
        numbers = {w: naming.pr_number_from_workspace(self.config.workspace_pattern, w) for w in workspaces}
        previews = sorted(((n, w) for w, n in numbers.items() if n is not None))
        cap = self.config.max_previews
        if numbers.get(self.names.workspace) is not None or len(previews) < cap:  # an existing one may update
            return
        holders = ", ".join(f"{w} (#{n})" for n, w in previews)
        raise PrenvError(
            f"the preview cap is reached: {len(previews)} of {cap} previews exist: {holders}",
            reason=FailureReason.CAP_REACHED,
            hint=(
                "close or destroy one of them (`prenv destroy --pr N`), "
                f"or raise max_previews in {self.config.path}"
            ),
        )

    def apply(self, outcome: PlanOutcome, plan_file: Path, changed: bool) -> DeployOutcome:
        """Apply exactly the saved plan (nothing when it has no changes) and read the outputs (phase
        `apply`). The sequential form of `deploy`, for a plan from `plan`."""
        with self._phase("apply"), self.tf.holding():  # output shown once the outputs' secrets are masked
            if changed:
                self.tf.apply(plan_file)
            return self._deployed(outcome, applied=changed)

    def _deployed(self, outcome: PlanOutcome, *, applied: bool) -> DeployOutcome:
        """The deploy's outcome: the plan, and the outputs read from the state the apply wrote (S3 reads
        are strongly consistent), their secrets told to `reveal`; call inside `tf.holding()`."""
        outputs = outputs_of(self.outputs(), self.config.secret_names)
        self.reveal(sensitive_values(outputs))
        url = next(
            (str(o.value) for o in outputs if o.name == self.config.terraform.url_output and not o.sensitive),
            "",
        )
        return DeployOutcome(
            summary=outcome.summary,
            plan_text=outcome.plan_text,
            applied=applied,
            url=url,
            outputs=outputs,
            secrets=outcome.secrets,
            plan_cost=outcome.plan_cost,
        )

    def read_outputs(self) -> dict[str, Any] | None:
        """The workspace's outputs as `output -json` prints them, or None when it has no workspace.
        Read-only: creates nothing. From the state object alone when the bucket answers (no Terraform)."""
        stored = self.stored_state()
        if stored.answered and not stored.exists:
            return None
        found = tfstate.outputs(stored.document) if stored.exists else None
        if found is not None:
            return found
        self.init()
        if not self._exists(stored):
            return None
        self.tf.workspace = self.names.workspace
        return self.tf.outputs()

    def remaining(self) -> list[str]:
        """What the workspace's state still holds, as `terraform state list` prints it.

        Read from the state object when the bucket answers, which is as safe as `state list`:
        - `state list` takes no lock either: it reads the same object (GetObject of the same key, through
          the same credentials), so both see the same state. S3 reads are strongly consistent, so the
          read after Terraform's `destroy` exited sees the state that destroy wrote last (the digest the
          backend once kept in DynamoDB guarded against S3's former eventual consistency; prenv's
          backend locks with a lock file and has no DynamoDB table).
        - A state is never seen half-written: the backend writes it with one PutObject, which S3 makes
          visible whole or not at all. A run holding the lock meanwhile (a deploy of a reopened PR)
          leaves the previous state visible to both until it writes; what happens after the read is
          caught by `workspace delete` itself, which takes the lock and refuses a state that holds
          resources (prenv never passes -force).
        - The serial and lineage are not needed: they order writes of one workspace and tell workspaces
          apart, and this is the newest write of this workspace's own object.
        - Anything the state tracks counts (data sources and deposed objects too, as in `state list`); a
          document prenv cannot read (another format, not JSON, the object gone or unreadable) is not
          guessed at: `terraform state list` is asked.
        """
        stored = self.stored_state()
        found = tfstate.remaining(stored.document) if stored.exists else None
        return self.tf.state_list() if found is None else found

    def destroy(self, *, finish: Callable[[], None] | None = None) -> DestroyOutcome:
        """Destroy the workspace's resources; delete the workspace only when its state is then empty.

        `finish` runs after a destroy that left the state empty and before the workspace is deleted
        (shared mode: drop the database), so a failure there keeps the workspace, and the next destroy
        retries it."""
        if not self._exists(self.init_reading_state()):
            return DestroyOutcome(existed=False)
        self.tf.workspace = self.names.workspace
        reported = self.tf.destroy(self.var_file())
        remaining = self.remaining()
        if remaining:
            shown = ", ".join(remaining[:5]) + (" ..." if len(remaining) > 5 else "")
            raise TerraformError(
                f"terraform destroy left {len(remaining)} resource(s) in workspace "
                f"{self.names.workspace}: {shown}",
                reason=FailureReason.DESTROY_FAILED,
                hint="the workspace and its state were kept; fix the cause and run `prenv destroy` again",
            )
        if finish is not None:
            finish()
        self.tf.delete_workspace(self.names.workspace)
        return DestroyOutcome(existed=True, destroyed=reported or 0, workspace_deleted=True)

    def unlock(self, lock_id: str) -> None:
        """Release the state lock `lock_id` of this workspace; Terraform releases only the lock with that
        ID (any other lock, or none, is an error), so a lock a running job holds is never taken by guess."""
        if not self._exists(self.init_reading_state()):
            raise PrenvError(
                f"workspace {self.names.workspace} does not exist, so it holds no lock",
                reason=FailureReason.UNLOCK_FAILED,
                hint="check the PR number",
            )
        self.tf.workspace = self.names.workspace
        self.tf.force_unlock(lock_id)

    def release_after_cancel(self, lock_id: str) -> None:
        """Release the lock `lock_id` that this run's Terraform, stopped by an escalated cancellation,
        left on the workspace (`prenv.commands.wiring.release_own_lock` decides it is ours). Named by
        TF_WORKSPACE here too: the cancellation may have come before any call named it."""
        self.tf.workspace = self.names.workspace
        self.tf.force_unlock(lock_id, after_cancel=True)
