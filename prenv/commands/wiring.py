"""The wiring of one command run, beside the command modules.

- `Services`: what the entry (the CLI, or a test) gives a command: the environment, the streams, the
  working directory, and the seams (the sandbox's reporters, cleanup's clock).
- `Environment`: every environment variable prenv reads, read here and nowhere else.
- `Ports`: the adapters of one run, built once from the loaded config and that environment and handed
  down: the state bucket, the GitHub client, the AWS clients, the Terraform binary, the Actions runtime.
- What every command shares: the PR it works on (`resolve_pr`), its names and context (`target`), its
  engine, its reporters, its deploy record, and where a preview's parts are (`open_preview`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from prenv.aws.client import Aws, AwsError, AwsSettings, client_factory
from prenv.aws.preview import LivePreview
from prenv.aws.shared_db import DataApi, PrSecrets, find_server
from prenv.aws.state_bucket import StateBucket
from prenv.core import naming
from prenv.core.cleanup import REPOSITORY_TAG, WORKSPACE_TAG
from prenv.core.config import Config, backend_settings, load
from prenv.core.domain import Command, Context
from prenv.core.errors import Cancelled, ConfigError, FailureReason, PrenvError, UsageError
from prenv.core.event import PullRequestEvent, pull_request_event
from prenv.core.phases import Phase, Stopwatch, to_record
from prenv.core.remote import repository_from_remotes
from prenv.core.troubleshoot import locate
from prenv.engine import bundled
from prenv.engine.lifecycle import Engine
from prenv.engine.process import CANCELLATION, local_user
from prenv.engine.shared_db import Scripts, SharedDatabase
from prenv.engine.terraform import Progress, Terraform, find_binary
from prenv.github.client import DEFAULT_API_URL, GitHub
from prenv.report.actions import ActionsReporter
from prenv.report.port import Reporter, Reporters
from prenv.report.pr import GitHubReporter
from prenv.report.runtime import ActionsSettings, Runtime, inert_stream, read_event
from prenv.report.sticky import comment_record, hint_from_record
from prenv.report.terminal import TerminalReporter

# The AWS SDK's credential variables, as boto3 Session keywords.
_CREDENTIALS = {
    "aws_access_key_id": "AWS_ACCESS_KEY_ID",
    "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
    "aws_session_token": "AWS_SESSION_TOKEN",
}
_SERVICE_ENDPOINT = "AWS_ENDPOINT_URL_"


# --- the environment ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Environment:
    """Every variable prenv reads from its environment (the whole of it still goes to Terraform and the
    AWS CLI, which read their own)."""

    variables: Mapping[str, str]
    config_path: str  # PRENV_CONFIG
    sandbox: bool  # PRENV_SANDBOX=1: a `prenv sandbox` run, against the emulator, with no GitHub
    terraform: str  # PRENV_TERRAFORM
    path: str | None  # PATH
    repository: str  # GITHUB_REPOSITORY
    event_path: str  # GITHUB_EVENT_PATH
    github_token: str  # GITHUB_TOKEN
    github_api_url: str  # GITHUB_API_URL
    github_login: str  # PRENV_GITHUB_LOGIN: who the token is, when the caller knows
    provider_mirror: str  # PRENV_PROVIDER_MIRROR
    data_home: str  # XDG_DATA_HOME
    cache_home: str  # XDG_CACHE_HOME, else $HOME/.cache: where the shipped preview root's copy lives
    actions: ActionsSettings
    aws: AwsSettings


def _run_url(env: Mapping[str, str], repository: str) -> str:
    """The link to this workflow run, or '' outside Actions."""
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    run_id = env.get("GITHUB_RUN_ID", "")
    if not (repository and run_id):
        return ""
    attempt = env.get("GITHUB_RUN_ATTEMPT", "")
    return f"{server}/{repository}/actions/runs/{run_id}" + (f"/attempts/{attempt}" if attempt else "")


def aws_settings(env: Mapping[str, str]) -> AwsSettings:
    """How the AWS SDK would reach AWS from `env`: profile, credentials, endpoints, retries, region."""
    attempts = env.get("AWS_MAX_ATTEMPTS", "")
    return AwsSettings(
        profile=env.get("AWS_PROFILE", ""),
        credentials={key: env[name] for key, name in _CREDENTIALS.items() if env.get(name)},
        endpoint=env.get("AWS_ENDPOINT_URL", ""),
        endpoints={
            name.removeprefix(_SERVICE_ENDPOINT): url
            for name, url in env.items()
            if name.startswith(_SERVICE_ENDPOINT) and url
        },
        max_attempts=int(attempts) if attempts.isdigit() else 4,
        retry_mode=env.get("AWS_RETRY_MODE") or "standard",
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "",
    )


def _cache_home(xdg_cache_home: str, home: str) -> str:
    """The XDG base directory for caches (its default: ~/.cache), else the system's temporary folder."""
    if xdg_cache_home:
        return xdg_cache_home
    return str(Path(home) / ".cache") if home else str(Path(tempfile.gettempdir()) / "prenv-cache")


def read_environment(env: Mapping[str, str]) -> Environment:
    """Read every variable prenv uses from `env` (the process environment, or a test's)."""
    repository = env.get("GITHUB_REPOSITORY", "")
    return Environment(
        variables=env,
        config_path=env.get("PRENV_CONFIG", ""),
        sandbox=env.get("PRENV_SANDBOX") == "1",
        terraform=env.get("PRENV_TERRAFORM", ""),
        path=env.get("PATH"),
        repository=repository,
        event_path=env.get("GITHUB_EVENT_PATH", ""),
        github_token=env.get("GITHUB_TOKEN", "").strip(),
        github_api_url=env.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL,
        github_login=env.get("PRENV_GITHUB_LOGIN", "").strip(),
        provider_mirror=env.get("PRENV_PROVIDER_MIRROR", ""),
        data_home=env.get("XDG_DATA_HOME", ""),
        cache_home=_cache_home(env.get("XDG_CACHE_HOME", ""), env.get("HOME", "")),
        actions=ActionsSettings(
            in_actions=env.get("GITHUB_ACTIONS") == "true",
            output_path=env.get("GITHUB_OUTPUT", ""),
            summary_path=env.get("GITHUB_STEP_SUMMARY", ""),
            run_url=_run_url(env, repository),
        ),
        aws=aws_settings(env),
    )


def _now() -> datetime:
    return datetime.now(UTC)


# --- what the entry gives a command ------------------------------------------------------------------


@dataclass
class Services:
    """What a command runs with. The CLI builds the real ones; tests replace any of them."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    cwd: Path = field(default_factory=Path.cwd)
    verbose: bool = False
    config_path: str | None = None
    # Builds the reporters of one command instead of terminal + Actions + GitHub (the sandbox's).
    reporter_factory: Callable[[Ports, Config, Target], Reporter] | None = None
    # Follows long Terraform commands as they run (the sandbox's progress lines); None: output captured.
    terraform_progress: Progress | None = None
    # "Now" for cleanup's decisions (tests fix it, so no decision depends on how long a test takes).
    clock: Callable[[], datetime] = _now
    # Values masked so far (`Runtime.mask`): hidden in everything written to `out` and `err`.
    secrets: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        # Nothing prenv prints becomes a workflow command, whatever text it carries (prenv.report.runtime).
        self.out = inert_stream(self.out, self.secrets)
        self.err = inert_stream(self.err, self.secrets)

    @functools.cached_property
    def environment(self) -> Environment:
        return read_environment(self.env)

    def runtime(self, out: TextIO | None = None) -> Runtime:
        return Runtime(self.environment.actions, out or self.out, self.secrets)

    def warn(self, message: str) -> None:
        """A warning that does not stop the command: on stderr, and as an annotation in Actions."""
        self.err.write(f"prenv: warning: {message}\n")
        self.err.flush()
        self.runtime().annotate("warning", message, title="prenv")

    def note(self, message: str) -> None:
        """Something worth knowing that changes nothing about the outcome: on stderr only."""
        self.err.write(f"prenv: note: {message}\n")
        self.err.flush()


def load_config(services: Services) -> Config:
    path = services.config_path
    if path is None:
        path = services.environment.config_path or str(services.cwd / ".github" / "prenv.yml")
    elif not Path(path).is_absolute():
        path = str(services.cwd / path)
    return load(path)


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
    event = pull_request_event(read_event(services.environment.event_path))
    if pr_option is not None:
        number = parse_pr_number(pr_option)
        return number, event if event and event.number == number else None
    if event is not None:
        return event.number, event
    raise UsageError(
        "no pull request number",
        hint="pass --pr N, or run on a pull_request event or a comment on a PR (GITHUB_EVENT_PATH)",
    )


def _git(path: str | None, args: Sequence[str], timeout: int) -> str:
    """`git <args>`'s output, or '' without git or when it fails."""
    git = shutil.which("git", path=path)
    if git is None:
        return ""
    try:
        done = subprocess.run(  # noqa: S603 - git found on PATH, fixed arguments, no shell
            [git, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


def git_remotes(cwd: Path, path: str | None) -> str:
    """The clone's remote URLs (`git config --get-regexp` output), or '' without git or a clone."""
    return _git(path, ["-C", str(cwd), "config", "--get-regexp", r"^remote\..*\.url$"], 10)


def resolve_repository(config: Config, environment: Environment, remotes: Callable[[], str]) -> str:
    """The config's `repository`, else GITHUB_REPOSITORY, else the clone's git remote (`origin`)."""
    repository = (config.repository or environment.repository).strip()
    if not repository:
        repository = repository_from_remotes(remotes()) or ""
    if "/" not in repository.strip("/"):
        raise ConfigError(
            f"{config.path}: cannot tell which repository this is",
            hint="set GITHUB_REPOSITORY=owner/name or `repository: owner/name` in the config, or run "
            "prenv in a clone whose remote `origin` is the GitHub repository",
        )
    return repository


def resolve_setup_repository(services: Services) -> str:
    """`prenv setup` and `prenv init`, which run before any config exists: GITHUB_REPOSITORY, else the
    clone's git remote."""
    environment = services.environment
    repository = environment.repository.strip() or repository_from_remotes(
        git_remotes(services.cwd, environment.path)
    )
    if not repository or "/" not in repository.strip("/"):
        raise UsageError(
            "cannot tell which repository this is",
            hint="pass --repository OWNER/NAME, or run in a clone whose remote `origin` is the GitHub "
            "repository",
        )
    return repository


def state_bucket_of(config: Config, aws: Aws) -> StateBucket:
    """The state bucket of `config` (`prenv setup`'s, before any config file names it: a bare one)."""
    return StateBucket(config, aws)


def setup_record_path(environment: Environment, repository: str) -> Path:
    """Where `prenv setup` keeps its outputs for `prenv init` (prenv's cache: losing it costs a question)."""
    return Path(environment.cache_home) / "prenv" / "setup" / f"{naming.repository_hash(repository)}.json"


def release_commit(action: str, tag: str, path: str | None) -> str:
    """The commit the release tag `tag` of the action's repository points at (`git ls-remote`), or ''."""
    url = f"https://github.com/{action}.git"
    listing = _git(path, ["ls-remote", url, f"refs/tags/{tag}^{{}}", f"refs/tags/{tag}"], 30)
    refs: dict[str, str] = {}
    for line in listing.splitlines():
        commit, _, ref = line.partition("\t")
        refs[ref.strip()] = commit.strip()
    # An annotated tag's commit is the peeled ref (^{}); a lightweight tag's is the ref itself.
    return refs.get(f"refs/tags/{tag}^{{}}") or refs.get(f"refs/tags/{tag}") or ""


# --- the ports of one run ----------------------------------------------------------------------------


@dataclass
class Ports:
    """The adapters of one command run, built once (`build_ports()`) and handed down. The GitHub client,
    the Terraform binary and AWS clients other than the state bucket's are made when first needed."""

    services: Services
    repository: str
    bucket: StateBucket
    backend: Mapping[str, str]  # the S3 backend's -backend-config settings
    _s3_options: Mapping[str, Any]
    _aws: dict[str, Aws]
    _terraform_name: str
    _github: GitHub | None = None
    _github_made: bool = False
    _terraform: str = ""

    @property
    def environment(self) -> Environment:
        return self.services.environment

    @property
    def runtime(self) -> Runtime:
        return self.services.runtime()

    def warn(self, message: str) -> None:
        self.services.warn(message)

    def github(self) -> GitHub | None:
        """The GitHub adapter of this run; None without a token, and in the sandbox (no GitHub there)."""
        if not self._github_made:
            env = self.environment
            if env.github_token and not env.sandbox:
                self._github = GitHub(
                    env.github_token, self.repository, api_url=env.github_api_url, login=env.github_login
                )
            self._github_made = True
        return self._github

    def aws(self, region: str) -> Aws:
        """The AWS adapter for `region` (one per region per run)."""
        if region not in self._aws:
            self._aws[region] = Aws(client_factory(self.environment.aws, region, **self._s3_options))
        return self._aws[region]

    def terraform_binary(self) -> str:
        """The Terraform executable of this run, found on PATH (once)."""
        if not self._terraform:
            self._terraform = find_binary(self._terraform_name, self.environment.path)
        return self._terraform


def _terraform_name(environment: Environment, configured: str) -> str:
    """PRENV_TERRAFORM, else the configured binary (`terraform.binary`), else `terraform`."""
    return environment.terraform or configured or "terraform"


def terraform_binary(environment: Environment, configured: str = "") -> str:
    """The Terraform executable `_terraform_name` names, found on PATH."""
    return find_binary(_terraform_name(environment, configured), environment.path)


def build_ports(services: Services, config: Config) -> Ports:
    """Build the ports of a command run from the loaded `config` and the environment."""
    environment = services.environment
    custom_endpoint = environment.aws.custom_s3_endpoint
    path_style = config.backend.path_style(custom_endpoint=custom_endpoint)
    s3_options = {"s3": {"addressing_style": "path" if path_style else "auto"}}
    bucket_aws = Aws(client_factory(environment.aws, config.backend.region, **s3_options))
    return Ports(
        services=services,
        repository=resolve_repository(
            config, environment, lambda: git_remotes(services.cwd, environment.path)
        ),
        bucket=state_bucket_of(config, bucket_aws),
        backend=backend_settings(config.backend, custom_endpoint=custom_endpoint),
        _s3_options=s3_options,
        _aws={config.backend.region: bucket_aws},
        _terraform_name=_terraform_name(environment, config.terraform.binary),
    )


@dataclass(frozen=True)
class Invocation:
    """A command run on one PR: the loaded config, the PR (and the event about it), the ports."""

    config: Config
    number: int
    event: PullRequestEvent | None
    ports: Ports


def invocation(services: Services, pr_option: str | None) -> Invocation:
    """Load the config, work out the PR, build the ports (in that order: each may refuse the run)."""
    config = load_config(services)
    number, event = resolve_pr(services, pr_option)
    return Invocation(config, number, event, build_ports(services, config))


def pr_github(ports: Ports, config: Config) -> GitHub | None:
    """The GitHub adapter for the PR's comment and Deployments; None where GitHub is not used (local
    runs without a token). Raises `github-token-missing` in a workflow run that needs GitHub."""
    found = ports.github()
    env = ports.environment
    wanted = config.comment.enabled or config.deployments.enabled
    if found is None and wanted and env.actions.in_actions and not env.sandbox:
        raise PrenvError(
            "GITHUB_TOKEN is not set, so prenv cannot update the pull request's comment and Deployments",
            reason=FailureReason.GITHUB_TOKEN_MISSING,
            hint="pass `github-token: ${{ github.token }}` to the action (or set GITHUB_TOKEN), "
            "or set comment.enabled and deployments.enabled to false",
        )
    return found


# --- the preview a command works on ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The preview of one command run: its names, its context, and the event about its PR (if any)."""

    names: naming.Names
    ctx: Context
    event: PullRequestEvent | None


def target(
    ports: Ports,
    config: Config,
    command: Command,
    number: int,
    event: PullRequestEvent | None = None,
    *,
    sha: str = "",
    image: str = "",
) -> Target:
    """PR `number`'s names and the command's context (for deploy and plan, completed from GitHub)."""
    try:
        names = naming.names_for(number, ports.repository, config.workspace_pattern)
    except naming.NamingError as exc:
        raise UsageError(str(exc), reason=FailureReason.USAGE) from None
    environment = ports.environment
    ctx = Context(
        pr_number=number,
        repository=ports.repository,
        workspace=names.workspace,
        environment=names.environment
        + (f"-{config.comment.environment}" if config.comment.environment else ""),
        command=command,
        head_sha=sha or (event.head_sha if event else ""),
        image=image or config.image,
        run_url=environment.actions.run_url,
        title=event.title if event else "",
        head_ref=event.head_ref if event else "",
        comment_environment=config.comment.environment,
        sandbox=environment.sandbox,
    )
    if command in (Command.DEPLOY, Command.PLAN):
        ctx = _from_github(ports, config, ctx, event)
    return Target(names=names, ctx=ctx, event=event)


def _from_github(ports: Ports, config: Config, ctx: Context, event: PullRequestEvent | None) -> Context:
    """Fill what the event lacks (head SHA, title, branch: a comment event or `--pr`) from the API,
    and refuse a PR from a fork (the workflow skips forks too; this is defense in depth)."""
    is_fork = event.is_fork if event else False
    if event is None or not event.head_sha:
        gh = pr_github(ports, config)
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


# --- cancellation ------------------------------------------------------------------------------------


def cancelled(state: str, *, hint: str) -> Cancelled:
    """A cancellation that came while no Terraform command ran; `state`: what it left of the preview."""
    how = CANCELLATION.describe() or "SIGINT"
    return Cancelled(
        f"cancelled ({how}) while no Terraform command was running: {state}",
        signal_name=CANCELLATION.first() or "SIGINT",
        escalated=CANCELLATION.escalated,
        hint=hint,
    )


def release_own_lock(ports: Ports, tgt: Target, eng: Engine | None, error: Cancelled) -> None:
    """After an escalated cancellation Terraform was stopped before it released its state lock: release
    it, when the lock is certainly the one that Terraform took (this machine's user, taken after that
    command started), so the next run needs no `prenv unlock`. Best effort: the runner kills prenv 2.5 s
    after its SIGTERM."""
    if eng is None or not error.escalated or not error.since:
        return
    try:
        lock = ports.bucket.read_lock(tgt.names.workspace, datetime.now(UTC))
        created = datetime.fromisoformat(lock.created.replace("Z", "+00:00"))
        if lock.id and lock.who == local_user() and created.timestamp() >= error.since - 1:
            eng.release_after_cancel(lock.id)
            error.message = error.message.replace(
                "but its lock may still be held", f"and prenv released the lock {lock.id} it left"
            )
            error.hint = "run the command again: it goes on from the saved state"
    except (PrenvError, ValueError):  # no lock left (NoSuchKey), or not one to release
        return


def explain_cancel(error: Cancelled, state: str, *, hint: str) -> None:
    """Add what the cancellation left of the preview (`state`) to a cancelled Terraform call's message."""
    error.message = f"{error.message}; {state}"
    if not error.escalated:
        error.hint = hint


# --- what a command runs with ------------------------------------------------------------------------


def print_output(runtime: Runtime, stream: TextIO, title: str, text: str) -> None:
    """Show captured Terraform output on `stream`, folded into a group in the Actions log, where the
    runner reads no workflow command in it."""
    with runtime.group(title), runtime.verbatim():
        if not runtime.in_actions:
            stream.write(f"--- {title}\n")
        stream.write(text + "\n")
    stream.flush()


def engine(
    ports: Ports,
    config: Config,
    tgt: Target,
    *,
    err: TextIO | None = None,
    watch: Stopwatch | None = None,
    seed: bool = False,
) -> Engine:
    """The engine of the target's workspace; Terraform's output, when shown, goes to `err`; `watch`
    times its phases; `seed` passes hooks.seed to the root (`prenv.engine.lifecycle.hook_variables`)."""
    services = ports.services
    binary = ports.terraform_binary()
    stream = err or services.err
    show = functools.partial(print_output, services.runtime(stream), stream)

    def make(root: Path, data_dir: Path) -> Terraform:
        return Terraform(
            root=root,
            binary=binary,
            env=services.env,
            lock_timeout=config.terraform.lock_timeout,
            data_dir=data_dir,
            verbose=services.verbose,
            show=show,
            progress=services.terraform_progress,
        )

    def reveal(values: Sequence[str]) -> None:  # masked on stdout, where the runtime's commands go
        runtime = services.runtime()
        for value in values:
            runtime.mask(value)

    bundled_root = None
    if config.root_path() is None:  # the preview root shipped with prenv, in a copy Terraform may write to
        bundled_root = bundled.working_copy(Path(ports.environment.cache_home) / "prenv" / "roots")
    return Engine(
        config=config,
        names=tgt.names,
        terraform_factory=make,
        base_dir=services.cwd,
        backend=ports.backend,
        head_sha=tgt.ctx.head_sha,
        image=tgt.ctx.image,
        reveal=reveal,
        bundled_root=bundled_root,
        watch=watch,
        seed=seed,
        states=ports.bucket,
    )


@dataclass
class DeployRecord:
    """The deploy record of one workspace (`prenv-deployed.json`): cleanup's idleness clock, and where
    the PR's comment is (the `CommentMemory` of the PR reporter).

    Read at most once, written once per deploy. A record that cannot be read is no hint (the comment is
    searched for); one that cannot be written is a warning (cleanup then judges idleness by the state's
    age). Neither fails the command: the preview itself is fine.
    """

    ports: Ports
    target: Target
    readable: bool  # this run edits the comment on GitHub: remembering where it is saves requests
    _record: Mapping[str, Any] | None = None
    _read: bool = False
    _comment: Mapping[str, Any] | None = None
    _kept: bool = False
    # What else this run keeps in the record, over the usual details (issue 17: the first deploy's
    # time and the cost ledger, `prenv.commands.costing`).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def workspace(self) -> str:
        return self.target.names.workspace

    def recall(self) -> Mapping[str, Any] | None:
        return self.previous() if self.readable else None

    def previous(self) -> Mapping[str, Any] | None:
        """The record the last deploy left, read once (also when the comment does not need it)."""
        if not self._read:
            self._read = True
            try:
                self._record = self.ports.bucket.read_deploy(self.workspace)
            except AwsError as exc:
                self.ports.services.note(
                    f"could not read the deploy record of {self.workspace} ({exc.code or exc.reason}); "
                    "the PR's comment will be searched for"
                )
        return self._record

    def remember(self, comment: Mapping[str, Any] | None) -> None:
        self._comment, self._kept = comment, True

    def write(self, phases: tuple[Phase, ...] = ()) -> None:
        """Record this deploy: its time and commit, its phases, and the comment as this run left it (a
        run that did not touch the comment passes on the one it was told about)."""
        ctx = self.target.ctx
        comment = self._comment
        if not self._kept:
            hint = hint_from_record(self.recall(), ctx)
            comment = comment_record(hint, ctx.comment_environment) if hint else None
        details: dict[str, Any] = {
            "pr": self.target.names.pr_number,
            "repository": ctx.repository,
            "head_sha": ctx.head_sha,
            "run_url": ctx.run_url,
        }
        if comment:
            details["comment"] = comment
        details.update(self.extra)
        if phases:
            details["phases"] = to_record(phases)
        what = f"record the deploy time of {self.workspace}"
        self._best_effort(what, lambda: self.ports.bucket.record_deploy(self.workspace, details))

    def forget(self) -> None:
        """Drop the workspace's records (its state is gone); what the record says about the comment is
        read first, as the "destroyed" comment still edits it."""
        self.recall()
        what = f"remove prenv's records of {self.workspace}"
        self._best_effort(what, lambda: self.ports.bucket.forget(self.workspace))

    def _best_effort(self, what: str, action: Callable[[], None]) -> None:
        try:
            action()
        except AwsError as exc:
            self.ports.warn(
                f"could not {what}: {exc.message}; cleanup will judge idleness by the state's age"
            )


def deploy_record(ports: Ports, config: Config, tgt: Target) -> DeployRecord:
    env = ports.environment
    readable = config.comment.enabled and not env.sandbox and bool(env.github_token)
    return DeployRecord(ports, tgt, readable)


def reporter(
    ports: Ports,
    config: Config,
    tgt: Target,
    *,
    out: TextIO,
    record: DeployRecord | None = None,
    actions: bool = True,
) -> Reporter:
    """The reporters of one command: the terminal (`out`), the Actions runtime (unless `actions` is
    False: cleanup's destroys), and the PR (its comment remembered in `record`)."""
    services = ports.services
    if services.reporter_factory is not None:
        return services.reporter_factory(ports, config, tgt)
    members: list[Reporter] = []
    if actions:  # first: the masks of sensitive values come before any line that could show them
        members.append(ActionsReporter(ports.runtime, config, template_dir=services.cwd))
    members.append(TerminalReporter(out))
    if config.comment.enabled or config.deployments.enabled:
        gh = pr_github(ports, config)
        if gh is not None:
            members.append(
                GitHubReporter(
                    config=config, template_dir=services.cwd, github=gh, warn=ports.warn, memory=record
                )
            )
    return Reporters(members)


def open_preview(services: Services, command: Command, pr: str | None) -> LivePreview:
    """Read the PR's workspace's Terraform outputs (never creating anything) and locate the preview's
    parts (`prenv status`, `logs`, `exec`)."""
    job = invocation(services, pr)
    tgt = target(job.ports, job.config, command, job.number, job.event)
    with engine(job.ports, job.config, tgt) as eng:
        outputs = eng.read_outputs()
    location = locate(outputs, tgt.names, default_region=default_region(job.ports, job.config))
    try:  # the last deploy's commit and phases: worth showing, never worth failing for
        last = job.ports.bucket.read_deploy(tgt.names.workspace) if outputs is not None else None
    except AwsError:
        last = None
    preview = LivePreview(location=location, aws=job.ports.aws(location.region), last_deploy=last)
    if command is Command.STATUS:  # issue 17: status says that a preview sleeps
        preview.asleep = job.ports.bucket.read_sleep(tgt.names.workspace)
    return preview


# --- database.mode shared: the PR's database on the base's shared server -------------------------


def shared_database(ports: Ports, config: Config) -> SharedDatabase:
    """The repository's shared server (found by its name), reached through the RDS Data API, with the
    SQL of the root's sql/ directory and the pull requests' secrets."""
    aws = ports.aws(default_region(ports, config))
    server = find_server(aws, naming.shared_database_server(ports.repository))
    configured = config.root_path(ports.services.cwd)
    root = bundled.source() if configured is None else configured.resolve()  # none named: the shipped root
    scripts = Scripts.read(root / "sql")
    return SharedDatabase(
        DataApi(aws, server), PrSecrets(aws), scripts, host=server.endpoint, port=server.port
    )


def preview_tags(tgt: Target) -> dict[str, str]:
    """The tags every resource of the preview carries (terraform/preview's default_tags)."""
    return {
        REPOSITORY_TAG: tgt.names.repository,
        "prenv:pr": str(tgt.names.pr_number),
        WORKSPACE_TAG: tgt.names.workspace,
        "prenv:managed-by": "prenv",
    }


def wake_database(ports: Ports, config: Config) -> SharedDatabase:
    """Find the shared server and wake it (a paused Aurora instance resumes on the first call, in about
    15 seconds): run beside terraform init, so the resume costs no time of its own."""
    database = shared_database(ports, config)
    database.wake()
    return database


def provision_database(
    ports: Ports,
    config: Config,
    tgt: Target,
    watch: Stopwatch | None = None,
    woken: Callable[[], SharedDatabase] | None = None,
) -> None:
    """Create (or bring back) the PR's database, role and secret, once its workspace exists (cleanup
    takes a database without a workspace for an orphan); timed as the phase `database`, which includes
    waiting for `woken` (the server `wake_database` found and woke), when given."""
    with watch.phase("database") if watch else contextlib.nullcontext():
        database = woken() if woken else shared_database(ports, config)
        done = database.provision(tgt.names, preview_tags(tgt))
    password = "set" if done.password_changed else "unchanged"
    ports.services.note(
        f"database {done.database} on {naming.shared_database_server(ports.repository)}: ready "
        f"(password {password}, in secret {tgt.names.database_secret})"
    )


def drop_database(ports: Ports, config: Config, tgt: Target) -> None:
    """Drop the PR's database and role, ending open connections, and delete its secret."""
    shared_database(ports, config).drop(tgt.names)
    ports.services.note(
        f"database {tgt.names.pr_database} on {naming.shared_database_server(ports.repository)}: dropped"
    )


def default_region(ports: Ports, config: Config) -> str:
    """The region of a preview whose outputs do not say: AWS_REGION, else the state bucket's."""
    return ports.environment.aws.region or config.backend.region
