"""The `prenv` command line: parses arguments and dispatches to prenv.commands; no logic here."""

from __future__ import annotations

import platform
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from prenv import __version__
from prenv.commands import cleanup as cleanup_command
from prenv.commands import deploy as deploy_command
from prenv.commands import destroy as destroy_command
from prenv.commands import doctor as doctor_command
from prenv.commands import exec_ as exec_command
from prenv.commands import image as image_command
from prenv.commands import init as init_command
from prenv.commands import logs as logs_command
from prenv.commands import plan as plan_command
from prenv.commands import run as run_command
from prenv.commands import sandbox as sandbox_command
from prenv.commands import setup as setup_command
from prenv.commands import status as status_command
from prenv.commands import unlock as unlock_command
from prenv.commands import wake as wake_command
from prenv.commands.wiring import Services
from prenv.core.config import parse_duration
from prenv.core.errors import Cancelled, ExitStatus, FailureReason, PrenvError, UsageError
from prenv.core.limits import MAX_CONCURRENCY, MIN_CONCURRENCY
from prenv.core.onboarding import ACTION_REPOSITORY
from prenv.engine.process import CANCELLATION

F = TypeVar("F", bound=Callable[..., Any])


def _common(func: F) -> F:
    """Options every command accepts (also accepted before the command name)."""
    func = click.option(
        "--config", "config_path", metavar="PATH", help="Configuration file [default: .github/prenv.yml]."
    )(func)
    func = click.option("-v", "--verbose", is_flag=True, default=None, help="Show Terraform's output.")(func)
    func = click.option("--debug", is_flag=True, default=None, help="Show tracebacks for known errors.")(func)
    return func


def _services(
    ctx: click.Context, config_path: str | None, verbose: bool | None, debug: bool | None
) -> Services:
    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    services: Services = obj.get("services") or Services()
    services.config_path = config_path or obj.get("config_path") or services.config_path
    services.verbose = bool(verbose or obj.get("verbose") or services.verbose)
    if debug:
        obj["debug"] = True
    return services


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="prenv")
@_common
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: bool | None, debug: bool | None) -> None:
    """Per-pull-request preview environments on AWS with Terraform."""
    ctx.ensure_object(dict)
    ctx.obj.update({"config_path": config_path, "verbose": verbose, "debug": debug})


_PR = click.option("--pr", metavar="N", help="Pull request number [default: from GITHUB_EVENT_PATH].")
_SHA = click.option("--sha", default="", metavar="SHA", help="Head commit [default: from the event].")
_IMAGE = click.option(
    "--image", default="", metavar="IMAGE", help="Container image [default: from the config]."
)


@cli.command()
@_PR
@_SHA
@_IMAGE
@click.option(
    "--reseed", is_flag=True, help="Run the seed step (hooks.seed) again, though the preview was seeded."
)
@_common
@click.pass_context
def deploy(ctx: click.Context, /, pr: str | None, sha: str, image: str, reseed: bool, **common: Any) -> int:
    """Create or update the PR's preview: plan, apply that plan, wait until it is ready, report the URL."""
    return deploy_command.run(_services(ctx, **common), pr, sha=sha, image=image, reseed=reseed)


@cli.command()
@_PR
@_SHA
@_IMAGE
@_common
@click.pass_context
def plan(ctx: click.Context, /, pr: str | None, sha: str, image: str, **common: Any) -> int:
    """Plan the PR's preview and report the plan; nothing is applied."""
    return plan_command.run(_services(ctx, **common), pr, sha=sha, image=image)


@cli.command()
@_SHA
@click.option(
    "--build/--no-build",
    default=True,
    help="Build and push the image when ECR lacks it [default: build]; --no-build only looks it up.",
)
@_common
@click.pass_context
def image(ctx: click.Context, /, sha: str, build: bool, **common: Any) -> int:
    """The PR's image in the base's ECR repository: built from build.context and pushed, unless there."""
    return image_command.run(_services(ctx, **common), sha=sha, build=build)


@cli.command()
@_PR
@_common
@click.pass_context
def destroy(ctx: click.Context, /, pr: str | None, **common: Any) -> int:
    """Destroy the PR's preview; its workspace is deleted only when its state is empty."""
    return destroy_command.run(_services(ctx, **common), pr)


@cli.command()
@_PR
@click.option("--lock-id", default="", metavar="ID", help="The ID of the lock to release (required).")
@_common
@click.pass_context
def unlock(ctx: click.Context, /, pr: str | None, lock_id: str, **common: Any) -> int:
    """Release a stale state lock of the PR's workspace: only the lock with the given ID."""
    return unlock_command.run(_services(ctx, **common), pr, lock_id)


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command()
@click.option("--dry-run", is_flag=True, help="Report what would be done; change nothing anywhere.")
@click.option(
    "--max-age",
    callback=_duration,
    metavar="DURATION",
    help="Idle time after which an open PR's preview is warned, then destroyed [config: 7d].",
)
@click.option(
    "--warn-before",
    callback=_duration,
    metavar="DURATION",
    help="How long after the warning an idle preview is destroyed [config: 1d].",
)
@click.option(
    "--concurrency",
    type=click.IntRange(MIN_CONCURRENCY, MAX_CONCURRENCY),
    metavar="N",
    help="Destroys at once [config: 4].",
)
@click.option(
    "--stale-lock-age",
    callback=_duration,
    metavar="DURATION",
    help="Locks older than this are reported as stale [config: 2h].",
)
@click.option("--delete-orphans", is_flag=True, help="Delete tagged resources whose workspace has no state.")
@_common
@click.pass_context
def cleanup(
    ctx: click.Context, /, config_path: str | None, verbose: bool | None, debug: bool | None, **options: Any
) -> int:
    """Destroy previews of closed PRs and idle previews; report stale locks and orphaned resources."""
    services = _services(ctx, config_path=config_path, verbose=verbose, debug=debug)
    return cleanup_command.run(services, cleanup_command.Options(**options))


@cli.command()
@click.option("--pr", default="4242", show_default=True, metavar="N", help="The pretend pull request.")
@click.option("--keep", is_flag=True, help="Leave the preview (and the emulator) up at the end.")
@click.option(
    "--root", metavar="DIR", help="Terraform root to run [default: terraform/preview, or the example]."
)
@click.option(
    "--comments",
    default="prenv-sandbox-comments",
    show_default=True,
    metavar="DIR",
    help="Where to write the PR comments prenv would post, one file per stage.",
)
@_common
@click.pass_context
def sandbox(
    ctx: click.Context, /, pr: str, keep: bool, root: str | None, comments: str, **common: Any
) -> int:
    """Run the whole PR lifecycle against an embedded AWS emulator (no cloud account needed)."""
    return sandbox_command.run(_services(ctx, **common), pr, keep=keep, root=root, comments=comments)


@cli.command()
@click.option(
    "--quick",
    is_flag=True,
    help="Only what a deploy needs; nothing beyond the bucket once the PR has a state.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option(
    "--role",
    default="",
    metavar="ARN",
    help="The role the AWS credentials must be [in a workflow: terraform/bootstrap's role].",
)
@_IMAGE
@click.option(
    "--pr", metavar="N", help="--quick: the PR about to be deployed [default: from GITHUB_EVENT_PATH]."
)
@_common
@click.pass_context
def doctor(
    ctx: click.Context, /, config_path: str | None, verbose: bool | None, debug: bool | None, **options: Any
) -> int:
    """Check everything a first deploy needs, one line each with its fix (exit 1 when one fails)."""
    services = _services(ctx, config_path=config_path, verbose=verbose, debug=debug)
    return doctor_command.run(services, doctor_command.DoctorOptions(**options))


# --- onboarding: the AWS side, then the repository's files ----------------------------------------


@cli.command()
@click.option("--region", default="", metavar="REGION", help="AWS region [default: AWS_REGION].")
@click.option("--profile", default="", metavar="NAME", help="AWS profile with administrator credentials.")
@click.option(
    "--repository", default="", metavar="OWNER/NAME", help="GitHub repository [default: the git remote]."
)
@click.option(
    "--main-branch", default="main", show_default=True, metavar="BRANCH", help="The default branch."
)
@click.option(
    "--oidc-provider/--no-oidc-provider",
    "create_oidc_provider",
    default=True,
    help="Create GitHub's OIDC provider [default: yes]; --no-oidc-provider when the account has one.",
)
@click.option(
    "--bootstrap-vars", default="", metavar="FILE", help="JSON file of terraform/bootstrap's variables."
)
@click.option("--base-vars", default="", metavar="FILE", help="JSON file of terraform/base's variables.")
@click.option("--destroy", is_flag=True, help="Remove the base and the bootstrap (no preview may be left).")
@_common
@click.pass_context
def setup(
    ctx: click.Context, /, config_path: str | None, verbose: bool | None, debug: bool | None, **options: Any
) -> int:
    """Apply prenv's bootstrap and base roots in the AWS account; print the repository variables."""
    services = _services(ctx, config_path=config_path, verbose=verbose, debug=debug)
    return setup_command.run(services, setup_command.SetupOptions(**options))


@cli.command("init")
@click.option("--bucket", metavar="NAME", help="State bucket [default: from prenv setup].")
@click.option("--region", metavar="REGION", help="Its region [default: from prenv setup].")
@click.option("--context", metavar="DIR", help="Folder docker builds [default: . with a Dockerfile].")
@click.option("--dockerfile", metavar="PATH", help="Dockerfile [default: <context>/Dockerfile].")
@click.option("--port", type=int, metavar="PORT", help="Port the app listens on [default: 8080].")
@click.option("--health-path", metavar="PATH", help="Path answering 200 [default: /healthz].")
@click.option("--label", metavar="NAME", help="Opt-in label [default: none, every PR].")
@click.option(
    "--action",
    default=ACTION_REPOSITORY,
    show_default=True,
    metavar="OWNER/NAME",
    help="The action's repository.",
)
@click.option(
    "--action-ref", default="", metavar="SHA", help="Commit of the release [default: its tag's, by git]."
)
@click.option("--force", is_flag=True, help="Overwrite files that differ.")
@_common
@click.pass_context
def init_(
    ctx: click.Context, /, config_path: str | None, verbose: bool | None, debug: bool | None, **options: Any
) -> int:
    """Write .github/prenv.yml and the workflows, pinned to this prenv's release."""
    services = _services(ctx, config_path=config_path, verbose=verbose, debug=debug)
    interactive = sys.stdin.isatty() and services.out is not None
    return init_command.run(
        services,
        init_command.InitOptions(**options, interactive=interactive),
        ask=lambda question, default: click.prompt(
            question, default=default, type=type(default) if default is not None else str
        ),
    )


# --- troubleshooting: read-only views of a running preview ------------------------------------


def pr_argument(positional: str | None, option: str | None) -> str | None:
    """The PR from `prenv status 12` or `prenv status --pr 12` (both: they must agree)."""
    if positional is not None and option is not None and positional.lstrip("#") != option.lstrip("#"):
        raise UsageError(f"the PR is given twice, as {positional} and as --pr {option}", hint="give it once")
    return positional if positional is not None else option


_PR_ARG = click.argument("pr_arg", metavar="[PR]", required=False)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


@cli.command()
@_PR_ARG
@_PR
@_JSON
@click.option(
    "--events", default=10, show_default=True, type=click.IntRange(0, 100), help="How many service events."
)
@_common
@click.pass_context
def status(
    ctx: click.Context, /, pr_arg: str | None, pr: str | None, as_json: bool, events: int, **common: Any
) -> int:
    """Describe the PR's preview: service, tasks, stopped reasons, events, targets, database, URL."""
    services = _services(ctx, **common)
    return status_command.run(services, pr_argument(pr_arg, pr), as_json=as_json, events=events)


@cli.command()
@_PR_ARG
@_PR
@click.option(
    "--since", default="1h", show_default=True, metavar="AGE", help="Start this long ago (10m, 2h)."
)
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until interrupted.")
@_JSON
@_common
@click.pass_context
def logs(
    ctx: click.Context,
    /,
    *,
    pr_arg: str | None,
    pr: str | None,
    since: str,
    follow: bool,
    as_json: bool,
    **common: Any,
) -> int:
    """Print the PR's container logs from CloudWatch (one JSON object per line with --json)."""
    services = _services(ctx, **common)
    return logs_command.run(services, pr_argument(pr_arg, pr), since=since, follow=follow, as_json=as_json)


@cli.command("exec")
@_PR_ARG
@_PR
@click.option("--container", default="app", show_default=True, metavar="NAME", help="Container to enter.")
@click.option("--command", default="/bin/sh", show_default=True, metavar="CMD", help="What to run in it.")
@click.option(
    "--run", "execute", is_flag=True, help="Run the command (needs aws and session-manager-plugin)."
)
@_JSON
@_common
@click.pass_context
def exec_(
    ctx: click.Context,
    /,
    *,
    pr_arg: str | None,
    pr: str | None,
    container: str,
    command: str,
    execute: bool,
    as_json: bool,
    **common: Any,
) -> int:
    """Print (or --run) the `aws ecs execute-command` that opens a shell in the PR's running task."""
    services = _services(ctx, **common)
    number = pr_argument(pr_arg, pr)
    return exec_command.run(
        services, number, container=container, command=command, execute=execute, as_json=as_json
    )


@cli.command()
@_PR_ARG
@_PR
@_common
@click.pass_context
def wake(ctx: click.Context, /, pr_arg: str | None, pr: str | None, **common: Any) -> int:
    """Wake the PR's sleeping preview: database started, service scaled back, comment back to ready."""
    return wake_command.run(_services(ctx, **common), pr_argument(pr_arg, pr))


@cli.command("run")
@click.argument("words", nargs=-1, type=click.UNPROCESSED, metavar="[PR] -- COMMAND...")
@_PR
@click.option(
    "--timeout",
    default="30m",
    show_default=True,
    callback=_duration,
    metavar="DURATION",
    help="Stop the task when it has not finished by then (run-failed).",
)
@click.option("--container", default="app", show_default=True, metavar="NAME", help="Container to run it in.")
@_JSON
@_common
@click.pass_context
def run_(
    ctx: click.Context,
    /,
    *,
    words: tuple[str, ...],
    pr: str | None,
    timeout: Any,
    container: str,
    as_json: bool,
    **common: Any,
) -> int:
    """Run COMMAND once in a new task of the PR's preview; its log lines are printed as they arrive and
    its exit code is prenv's (`prenv run 12 -- python app.py migrate`)."""
    services = _services(ctx, **common)
    number, command = run_command.split_words(words, pr)
    return run_command.run(
        services, pr_argument(number, None), command, timeout=timeout, container=container, as_json=as_json
    )


def _versions() -> str:
    return f"prenv {__version__}, Python {platform.python_version()}, {platform.platform()}"


def main(argv: Sequence[str] | None = None, *, services: Services | None = None) -> int:
    """Entry point: runs the CLI and turns errors into exit statuses. Returns (and exits with) the status."""
    obj: dict[str, Any] = {"services": services} if services is not None else {}
    status = run(argv, obj)
    if argv is None:
        sys.exit(status)
    return status


def run(argv: Sequence[str] | None, obj: dict[str, Any]) -> int:
    err = obj["services"].err if obj.get("services") is not None else sys.stderr
    # SIGINT and SIGTERM reach Terraform once and are waited for (prenv.engine.process); the handler is
    # prenv's only while the command runs.
    with CANCELLATION.installed():
        try:
            return _run(argv, obj, err)
        except KeyboardInterrupt:  # a further signal while the cancellation was being reported
            err.write("prenv: cancelled\n")
            return int(cancelled().exit_status)


def cancelled() -> Cancelled:
    """The cancellation of a run that a signal interrupted outside Terraform (or Ctrl-C at a prompt)."""
    how = CANCELLATION.describe() or "SIGINT"
    return Cancelled(
        f"cancelled ({how})",
        signal_name=CANCELLATION.first() or "SIGINT",
        escalated=CANCELLATION.escalated,
        hint="run the command again to go on",
    )


def _run(argv: Sequence[str] | None, obj: dict[str, Any], err: Any) -> int:
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None, prog_name="prenv", standalone_mode=False, obj=obj
        )
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort as exc:
        # click turns a KeyboardInterrupt (and an EOF at a prompt) into Abort: a signal is a cancellation.
        if isinstance(exc.__context__, KeyboardInterrupt) or CANCELLATION.requested:
            return _failed(cancelled(), obj, err)
        err.write("prenv: aborted\n")
        return int(ExitStatus.FAILURE)
    except click.ClickException as exc:
        exc.show(file=err)
        return int(ExitStatus.USAGE)
    except PrenvError as exc:
        return _failed(exc, obj, err)
    except KeyboardInterrupt:
        return _failed(cancelled(), obj, err)
    except Exception:  # the top-level boundary: any other error is a bug, shown with a traceback (exit 3)
        err.write(traceback.format_exc())
        err.write(
            f"prenv: unexpected error [{FailureReason.UNEXPECTED}]; please report it with this output "
            f"({_versions()})\n"
        )
        _report_failure(
            obj, FailureReason.UNEXPECTED, "prenv failed unexpectedly; see the traceback in the log"
        )
        return int(ExitStatus.UNEXPECTED)
    return int(result or 0)


def _failed(exc: PrenvError, obj: dict[str, Any], err: Any) -> int:
    """A known failure: its detail (unless shown already), one line, the failure-reason output."""
    if obj.get("debug"):
        traceback.print_exc(file=err)
    if exc.detail and not exc.detail_shown:
        err.write(exc.detail.rstrip() + "\n")
    err.write(f"prenv: {exc.message} [{exc.reason}]" + (f"; {exc.hint}" if exc.hint else "") + "\n")
    _report_failure(obj, exc.reason, exc.one_line())
    return int(exc.exit_status)


def _report_failure(obj: dict[str, Any], reason: FailureReason, line: str) -> None:
    """The `failure-reason` step output and an error annotation, for every failure, however early."""
    services: Services = obj.get("services") or Services()
    runtime = services.runtime()
    runtime.set_outputs({"failure-reason": reason})
    runtime.annotate("error", line, title=f"prenv failed ({reason})")
