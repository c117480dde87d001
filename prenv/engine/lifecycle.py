"""The lifecycle of one preview on Terraform: deploy (plan + apply the saved plan), plan, destroy,
reading the outputs, releasing a stale lock.

This module decides the order of the Terraform calls and what is safe; `terraform.py` runs them. The
one rule it exists to keep: a workspace is deleted only after a destroy left its state empty (what
`terraform state list` would print: nothing). Nothing else deletes state.

Every Terraform process that loads the provider costs seconds, so the engine starts no process for what
the state bucket answers (`StateStore`): whether the workspace exists (its state object does), what
its state still holds, its outputs. A deploy is `init`, `plan` (which creates a new workspace: see
`save_plan`), then `apply` of that plan (when it changes anything) with `show -json` of the same plan
beside it (see `deploy`); a destroy is `init`, `destroy`, `workspace delete`. Where the bucket cannot
answer (no store, a read that fails, a state format prenv does not know), Terraform is asked:
`workspace list`, `state list`, `output -json`.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from prenv.core import naming, tfstate
from prenv.core import plan as planmod
from prenv.core.config import Config
from prenv.core.domain import DeployOutcome, DestroyOutcome, Output, PlanOutcome
from prenv.core.errors import FailureReason, PrenvError
from prenv.core.naming import Names
from prenv.engine.terraform import Terraform, TerraformError

_FIRST_INIT = threading.Lock()
_VARIABLE = re.compile(r'^\s*variable\s+"([A-Za-z_][A-Za-z0-9_-]*)"', re.MULTILINE)

TerraformFactory = Callable[[Path, Path], Terraform]  # (root, data_dir) -> Terraform


class StateStore(Protocol):
    """Where the S3 backend keeps the workspaces' states (`prenv.aws.state_bucket.StateBucket`)."""

    def read_state(self, workspace: str) -> bytes | None:
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


@dataclass(frozen=True)
class SavedPlan:
    """A plan `terraform plan -out` saved: its file, whether it changes anything, and plan's output."""

    file: Path
    changed: bool
    output: str


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


def variables(
    config: Config, names: Names, *, head_sha: str, image: str, declared: set[str] | None
) -> dict[str, Any]:
    """The values prenv passes to the root: its own (only those the root declares) and the config's."""
    own: dict[str, Any] = {
        "pr_number": names.pr_number,
        "workspace": names.workspace,
        "name_prefix": names.name_prefix,
        "repository": names.repository,
    }
    if head_sha:
        own["head_sha"] = head_sha
    if image:
        own["image"] = image
    if declared is not None:
        own = {key: value for key, value in own.items() if key in declared}
    return {**own, **config.terraform.variables}


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
    states: StateStore | None = None  # None: Terraform is asked what the bucket would answer

    def __post_init__(self) -> None:
        self.root = self.config.root_path(self.base_dir).resolve()
        if not self.root.is_dir():
            raise TerraformError(
                f"the Terraform root {self.root} does not exist",
                reason=FailureReason.INIT_FAILED,
                hint=f"set terraform.root in {self.config.path} to the directory of the preview's Terraform",
            )
        data_dir = self.root / ".terraform" / "prenv" / self.names.workspace
        self.tf = self.terraform_factory(self.root, data_dir)
        self._work = tempfile.TemporaryDirectory(prefix="prenv-")
        self.work_dir = Path(self._work.name)

    def close(self) -> None:
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
        )
        path = self.work_dir / "prenv.tfvars.json"
        path.write_text(json.dumps(values, indent=2, sort_keys=True), encoding="utf-8")
        return path

    def init(self) -> None:
        """`terraform init` in this workspace's own data directory.

        Inits of one root may run at once (cleanup destroys in parallel); only the first one writes the
        root's dependency lock file, so inits wait for each other until that file exists.
        """
        if (self.root / ".terraform.lock.hcl").exists():
            self.tf.init(self.backend)
            return
        with _FIRST_INIT:
            self.tf.init(self.backend)

    # --- lifecycle --------------------------------------------------------------------------------

    def stored_state(self) -> StoredState:
        """The workspace's state as the bucket holds it (one S3 read, no Terraform process). A read that
        fails is no answer: Terraform is asked instead, and reports the problem if there is one."""
        if self.states is None:
            return StoredState(answered=False)
        try:
            body = self.states.read_state(self.names.workspace)
        except PrenvError:
            return StoredState(answered=False)
        if body is None:
            return StoredState(answered=True)
        return StoredState(answered=True, exists=True, document=tfstate.parse(body))

    def init_reading_state(self) -> StoredState:
        """`init`, and meanwhile the read of the workspace's state: the S3 client's start-up and the read
        overlap Terraform's (init works as if `default` were selected, and writes no state of ours)."""
        with ThreadPoolExecutor(max_workers=1) as pool:
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

    def save_plan(self) -> SavedPlan:
        """init, then save a plan of the workspace to a file.

        No call creates or selects the workspace: TF_WORKSPACE names it, and the S3 backend's own
        `StateMgr`, which every command opening a workspace's state goes through, creates a workspace it
        does not list (under the state lock: it takes the lock, re-reads, writes an empty state only when
        there is none, so a workspace another run created meanwhile is used as is). That is the code
        `terraform workspace new` runs; the reopen and deleted-workspace tests hold it.
        """
        # The read's answer is not needed (`plan` creates a missing workspace); it sets up the S3 client
        # (boto3's import and configuration: a few tenths of a second) while Terraform's init runs, for
        # the read of the outputs once the apply has written them.
        self.init_reading_state()
        if self.config.max_previews:
            self.check_cap(self._previews())
        self.tf.workspace = self.names.workspace
        plan_file = self.work_dir / "preview.tfplan"
        changed, output = self.tf.plan(plan_file, self.var_file())
        return SavedPlan(file=plan_file, changed=changed, output=output)

    def read_plan(self, saved: SavedPlan) -> PlanOutcome:
        """The saved plan as the reports show it: its summary (`show -json`) and the human-readable plan
        (`plan`'s own output, cut by `prenv.core.plan.human_plan`)."""
        document = self.tf.show_json(saved.file)
        return PlanOutcome(summary=planmod.summarize(document), plan_text=planmod.human_plan(saved.output))

    def plan(self) -> tuple[PlanOutcome, Path, bool]:
        """init, save a plan, read it (nothing applied: `prenv plan`). Returns the plan, its file and
        'has changes'."""
        saved = self.save_plan()
        return self.read_plan(saved), saved.file, saved.changed

    def deploy(self, planned: Callable[[PlanOutcome], None]) -> DeployOutcome:
        """Save a plan and apply exactly it; `planned` is told the plan (`read_plan`) while it applies.

        The apply of the saved plan starts as soon as the plan is saved, and `show -json` of the same
        plan file runs beside it (two processes that each load the provider: seconds of a deploy).
        That is as safe as reading the plan first, because nothing read from the plan decides whether
        it is applied: the summary, the risky changes and the human-readable plan are reported, not
        gates (a deploy applies every plan it saved; the `plan` exit code alone says whether there is
        anything to apply). Were a gate ever added (refusing to replace a stateful resource, say), it
        must run between `save_plan` and the apply, from the plan file, not here.

        Whatever happens to `show -json` or to `planned`, the apply is waited for before anything is
        raised, so no Terraform runs on after the deploy returns; a failed apply is the error raised
        (the preview's state is what matters), else the first error of the plan's reading."""
        saved = self.save_plan()
        if not saved.changed:
            outcome = self.read_plan(saved)
            planned(outcome)
            return self.deployed(outcome, applied=False)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prenv-apply") as pool:
            applying = pool.submit(self.tf.apply, saved.file)
            try:
                outcome = self.read_plan(saved)
                planned(outcome)
            except BaseException:
                failed = applying.exception()  # waits for the apply to end
                if failed is not None:
                    raise failed from None
                raise
            applying.result()
        return self.deployed(outcome, applied=True)

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
        """Apply exactly the saved plan (nothing when it has no changes) and read the outputs (from the
        state the apply wrote: S3 reads are strongly consistent)."""
        if changed:
            self.tf.apply(plan_file)
        return self.deployed(outcome, applied=changed)

    def deployed(self, outcome: PlanOutcome, *, applied: bool) -> DeployOutcome:
        """The deploy's outcome: the plan, and the outputs read from the state the apply wrote."""
        outputs = tuple(
            Output(name=name, value=doc.get("value"), sensitive=bool(doc.get("sensitive")))
            for name, doc in sorted(self.outputs().items())
        )
        url = next(
            (str(o.value) for o in outputs if o.name == self.config.terraform.url_output and not o.sensitive),
            "",
        )
        return DeployOutcome(
            summary=outcome.summary, plan_text=outcome.plan_text, applied=applied, url=url, outputs=outputs
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

    def destroy(self) -> DestroyOutcome:
        """Destroy the workspace's resources; delete the workspace only when its state is then empty."""
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
