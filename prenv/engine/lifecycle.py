"""The lifecycle of one preview on Terraform: deploy (plan + apply the saved plan), plan, destroy,
reading the outputs, releasing a stale lock.

This module decides the order of the Terraform calls and what is safe; `terraform.py` runs them. The
one rule it exists to keep: a workspace is deleted only after a destroy left `terraform state list`
empty. Nothing else deletes state.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prenv.core import contract, naming
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
from prenv.engine.terraform import Terraform, TerraformError

_FIRST_INIT = threading.Lock()
_VARIABLE = re.compile(r'^\s*variable\s+"([A-Za-z_][A-Za-z0-9_-]*)"', re.MULTILINE)

TerraformFactory = Callable[[Path, Path], Terraform]  # (root, data_dir) -> Terraform


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
    watch: Stopwatch | None = None  # times the phases (init, plan, apply) when given
    seed: bool = False  # pass hooks.seed to the root: the preview's first deploy, or --reseed

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

    def plan(self, *, prepare: Callable[[], None] | None = None) -> tuple[PlanOutcome, Path, bool]:
        """init, select-or-create the workspace, save a plan. Returns the plan, its file and 'has changes'.

        `prepare` runs once the workspace exists and before the plan (shared mode: the database the
        root reads must exist by then, and exists only while its workspace does)."""
        with self._phase("init"):
            self.init()
            if self.config.max_previews:
                self.check_cap(self.tf.workspaces())
            self.tf.select_workspace(self.names.workspace, create=True)
        if prepare is not None:
            prepare()
        with self._phase("plan"):
            plan_file = self.work_dir / "preview.tfplan"
            with self.tf.holding():  # Terraform's output is shown once the plan's secrets are masked
                changed = self.tf.plan(plan_file, self.var_file())
                document = self.tf.show_json(plan_file)
                secrets = plan_secrets(document, self.config.secret_names)
                self.reveal(secrets)
            text = self.tf.show_text(plan_file)
        outcome = PlanOutcome(
            summary=planmod.summarize(document),
            plan_text=text,
            secrets=secrets,
            plan_cost=plan_cost(document, bundled_prices()),  # issue 17: the cost comes from the plan
        )
        return outcome, plan_file, changed

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
        """Apply exactly the saved plan (nothing when it has no changes) and read the outputs."""
        with self._phase("apply"), self.tf.holding():  # output shown once the outputs' secrets are masked
            if changed:
                self.tf.apply(plan_file)
            outputs = outputs_of(self.tf.outputs(), self.config.secret_names)
            self.reveal(sensitive_values(outputs))
        url = next(
            (str(o.value) for o in outputs if o.name == self.config.terraform.url_output and not o.sensitive),
            "",
        )
        return DeployOutcome(
            summary=outcome.summary,
            plan_text=outcome.plan_text,
            applied=changed,
            url=url,
            outputs=outputs,
            secrets=outcome.secrets,
            plan_cost=outcome.plan_cost,
        )

    def read_outputs(self) -> dict[str, Any] | None:
        """The workspace's `output -json`, or None when it has no workspace. Read-only: creates nothing."""
        self.init()
        if self.names.workspace not in self.tf.workspaces():
            return None
        self.tf.select_workspace(self.names.workspace, create=False)
        return self.tf.outputs()

    def destroy(self, *, finish: Callable[[], None] | None = None) -> DestroyOutcome:
        """Destroy the workspace's resources; delete the workspace only when its state is then empty.

        `finish` runs after a destroy that left the state empty and before the workspace is deleted
        (shared mode: drop the database), so a failure there keeps the workspace, and the next destroy
        retries it."""
        self.init()
        if self.names.workspace not in self.tf.workspaces():
            return DestroyOutcome(existed=False)
        self.tf.select_workspace(self.names.workspace, create=False)
        reported = self.tf.destroy(self.var_file())
        remaining = self.tf.state_list()
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
        self.init()
        if self.names.workspace not in self.tf.workspaces():
            raise PrenvError(
                f"workspace {self.names.workspace} does not exist, so it holds no lock",
                reason=FailureReason.UNLOCK_FAILED,
                hint="check the PR number",
            )
        self.tf.select_workspace(self.names.workspace, create=False)
        self.tf.force_unlock(lock_id)
