"""What every command needs: the services it runs with, the PR it works on, and its context."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TextIO

from prenv.core import naming
from prenv.core.config import Config, load
from prenv.core.domain import Context
from prenv.core.errors import ConfigError, FailureReason, PrenvError, UsageError
from prenv.core.event import PullRequestEvent, pull_request_event
from prenv.engine.lifecycle import Engine, TerraformFactory
from prenv.engine.terraform import Terraform, find_binary
from prenv.report import runtime as actions
from prenv.report.port import Reporter, Reporters
from prenv.report.terminal import TerminalReporter


@dataclass
class Services:
    """The ports a command runs with. The CLI builds the real ones; tests replace any of them."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    cwd: Path = field(default_factory=Path.cwd)
    verbose: bool = False
    config_path: str | None = None
    terraform_factory: TerraformFactory | None = None
    # Builds the reporters of one command (terminal, Actions, GitHub); None: terminal + Actions only.
    reporter_factory: Callable[[Services, Config, Context], Reporter] | None = None
    event: Mapping[str, object] | None = None
    _event_loaded: bool = False

    def runtime(self) -> actions.Runtime:
        return actions.Runtime(env=self.env, out=self.out)

    def load_config(self) -> Config:
        path = self.config_path
        if path is None:
            path = self.env.get("PRENV_CONFIG") or str(self.cwd / ".github" / "prenv.yml")
        elif not Path(path).is_absolute():
            path = str(self.cwd / path)
        return load(path)

    def read_event(self) -> Mapping[str, object] | None:
        if not self._event_loaded:
            self.event = self.event if self.event is not None else actions.read_event(self.env)
            self._event_loaded = True
        return self.event

    def print_output(self, title: str, text: str) -> None:
        """Show captured Terraform output on stderr, folded into a group in the Actions log."""
        runtime = actions.Runtime(env=self.env, out=self.err)
        with runtime.group(title):
            if not runtime.in_actions:
                self.err.write(f"--- {title}\n")
            self.err.write(text + "\n")
        self.err.flush()

    def terraform(self, config: Config) -> TerraformFactory:
        if self.terraform_factory is not None:
            return self.terraform_factory
        binary = find_binary(config.terraform.binary, self.env)
        return partial(self._make_terraform, config, binary)

    def _make_terraform(self, config: Config, binary: str, root: Path, data_dir: Path) -> Terraform:
        return Terraform(
            root=root,
            binary=binary,
            env=self.env,
            lock_timeout=config.terraform.lock_timeout,
            data_dir=data_dir,
            verbose=self.verbose,
            show=self.print_output,
        )

    def reporters(self, config: Config, ctx: Context) -> Reporter:
        if self.reporter_factory is not None:
            return self.reporter_factory(self, config, ctx)
        from prenv.report.actions import ActionsReporter
        from prenv.report.pr import github_reporter

        members: list[Reporter] = [TerminalReporter(self.out), ActionsReporter(self.runtime(), config)]
        conversation = github_reporter(self.env, config, ctx, self.warn, self.cwd)
        if conversation is not None:
            members.append(conversation)
        return Reporters(members)

    def warn(self, message: str) -> None:
        """A warning that does not stop the command: on stderr, and as an annotation in Actions."""
        self.err.write(f"prenv: warning: {message}\n")
        self.err.flush()
        actions.Runtime(env=self.env, out=self.out).annotate("warning", message)


def parse_pr_number(text: str, source: str = "--pr") -> int:
    value = text.strip().lstrip("#")
    if not value.isdigit():
        raise UsageError(f"{source} must be a pull request number such as 42, not {text!r}")
    try:
        return naming.check_pr_number(int(value))
    except naming.NamingError as exc:
        raise UsageError(f"{source}: {exc}") from None


def resolve_pr(services: Services, pr_option: str | None) -> tuple[int, PullRequestEvent | None]:
    """The PR number from `--pr`, else from the event payload (pull_request or issue_comment on a PR)."""
    event = pull_request_event(services.read_event())
    if pr_option is not None:
        number = parse_pr_number(pr_option)
        return number, event if event and event.number == number else None
    if event is not None:
        return event.number, event
    raise UsageError(
        "no pull request number",
        hint="pass --pr N, or run on a pull_request event or a comment on a PR (GITHUB_EVENT_PATH)",
    )


def resolve_repository(config: Config, env: Mapping[str, str]) -> str:
    repository = config.repository or env.get("GITHUB_REPOSITORY", "")
    if "/" not in repository.strip("/"):
        raise ConfigError(
            f"{config.path}: cannot tell which repository this is",
            hint="set GITHUB_REPOSITORY=owner/name, or `repository: owner/name` in the config",
        )
    return repository.strip()


@dataclass
class Target:
    config: Config
    names: naming.Names
    ctx: Context
    event: PullRequestEvent | None


def target(
    services: Services, command: str, pr_option: str | None, *, sha: str = "", image: str = ""
) -> Target:
    """Load the config and work out the PR, its names and the command's context."""
    config = services.load_config()
    number, event = resolve_pr(services, pr_option)
    repository = resolve_repository(config, services.env)
    try:
        names = naming.names_for(number, repository, config.workspace_pattern)
    except naming.NamingError as exc:
        raise UsageError(str(exc), reason=FailureReason.USAGE) from None
    ctx = Context(
        pr_number=number,
        repository=repository,
        workspace=names.workspace,
        environment=names.environment
        + (f"-{config.comment.environment}" if config.comment.environment else ""),
        command=command,
        head_sha=sha or (event.head_sha if event else ""),
        image=image or config.image,
        run_url=services.runtime().run_url(),
        title=event.title if event else "",
        head_ref=event.head_ref if event else "",
        names=names.as_dict(),
        comment_environment=config.comment.environment,
        sandbox=services.env.get("PRENV_SANDBOX") == "1",
    )
    if command in ("deploy", "plan"):
        ctx = _from_github(services, config, ctx, event)
    return Target(config=config, names=names, ctx=ctx, event=event)


def _from_github(services: Services, config: Config, ctx: Context, event: PullRequestEvent | None) -> Context:
    """Fill what the event lacks (head SHA, title, branch: a comment event or `--pr`) from the API,
    and refuse a PR from a fork (the workflow skips forks too; this is defense in depth)."""
    from prenv.report.pr import client

    is_fork = event.is_fork if event else False
    if event is None or not event.head_sha:
        gh = client(services.env, config, ctx.repository)
        if gh is not None:
            pr = gh.pull_request(ctx.pr_number)
            is_fork = pr.is_fork
            ctx = replace(
                ctx,
                head_sha=ctx.head_sha or pr.head_sha,
                title=ctx.title or pr.title,
                head_ref=ctx.head_ref or pr.head_ref,
            )
    if is_fork:
        raise PrenvError(
            f"PR #{ctx.pr_number} comes from a fork: prenv does not {ctx.command} it with this "
            "repository's credentials",
            reason=FailureReason.FORK_REFUSED,
            hint="a maintainer can push the branch to this repository to get a preview",
        )
    return ctx


def engine(services: Services, target: Target) -> Engine:
    return Engine(
        config=target.config,
        names=target.names,
        terraform_factory=services.terraform(target.config),
        env=services.env,
        base_dir=services.cwd,
        head_sha=target.ctx.head_sha,
        image=target.ctx.image,
    )
