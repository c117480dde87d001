"""docker-compose.yml run natively, for tests: each service started from its own definition with the
machine's real binaries, in the order and behind the health gates its `depends_on` conditions give.

    postgres image, no command    a PostgreSQL cluster (initdb/pg_ctl, tests/app/pg.py) made the way the
                                  image makes it: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB
    postgres image with a command that command (provision: /bin/sh and the machine's psql)
    a `build` service             the build context's files run by this Python, with the Dockerfile's
                                  ENV and CMD (migrate, seed, app)
    prom/prometheus image         the machine's `prometheus` with the mounted configuration

What containers would isolate is mapped, and nothing else changes: a service's host name becomes
127.0.0.1 and its container port the published host port (in the environment, in Prometheus's targets
and in health-check commands); a service that publishes a port gets PORT set to the host port and
LISTEN_HOST=127.0.0.1 (in its own network namespace it would bind 0.0.0.0); bind mounts are the
project's files, named volumes folders of the run. docs/local.md lists what this cannot show.
Everything listens on 127.0.0.1 only; `close()` (or leaving the `with` block) stops it all.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from prenv.core import contract
from tests.app import dockerfile
from tests.app.pg import LOOPBACK, PgCluster, binaries_missing
from tests.compose import spec
from tests.helpers import REPO_ROOT

STOP_GRACE = 10.0  # compose's default stop_grace_period
STEP_TIMEOUT = 120.0  # a provision, migrate or seed step that runs longer is stuck
POLL = 0.25  # health checks run this often, not every `interval`: tests need not wait a whole one
_DURATION = re.compile(r"(\d+)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


class ReplicaError(RuntimeError):
    """The compose file cannot be run natively, or a service failed (its log's tail is in the message)."""


def missing_tools() -> str:
    """What this machine lacks for a native run ('' when nothing)."""
    missing = [binaries_missing()] if binaries_missing() else []
    missing += [
        tool for tool in ("prometheus", "psql", "pg_isready", "setsid", "wget") if not shutil.which(tool)
    ]
    return ", ".join(missing)


def seconds(text: str | None, default: float) -> float:
    """A compose duration ("10s", "1m30s", "500ms") in seconds."""
    if not text:
        return default
    parts = _DURATION.findall(str(text))
    if not parts or "".join(n + u for n, u in parts) != str(text):
        raise ReplicaError(f"{text!r} is not a compose duration such as 10s or 1m30s")
    return sum(int(number) * _UNITS[unit] for number, unit in parts)


@dataclass
class _Running:
    process: subprocess.Popen[bytes] | None = None
    cluster: PgCluster | None = None


class Replica:
    """The compose project at `project` with `variables` as its .env; files in `overlay` (path relative
    to the project -> text) replace the project's own where they are mounted."""

    def __init__(
        self,
        variables: Mapping[str, str],
        *,
        work: Path,
        project: Path = REPO_ROOT,
        overlay: Mapping[str, str] | None = None,
    ) -> None:
        self.project = project
        self.work = work
        self.overlay = dict(overlay or {})
        compose = spec.interpolate(spec.load(project / "docker-compose.yml"), variables)
        self.services: dict[str, dict[str, Any]] = compose["services"]
        self.ports = {name: spec.published(service) for name, service in self.services.items()}
        for name, ports in self.ports.items():
            for address, _ in ports.values():
                if address != LOOPBACK:
                    raise ReplicaError(
                        f"{name} publishes a port on {address or 'every address'}, not {LOOPBACK}"
                    )
        self.events: list[str] = []  # "db started", "db healthy", "provision exited 0", ...
        self._running: dict[str, _Running] = {}
        self._healthy: set[str] = set()
        (work / "logs").mkdir(parents=True, exist_ok=True)

    # --- addresses -----------------------------------------------------------------------------------

    def host_port(self, service: str, container_port: int) -> int:
        try:
            return self.ports[service][container_port][1]
        except KeyError:
            raise ReplicaError(
                f"{service} publishes no port {container_port}: natively, services reach each other only "
                "through published ports"
            ) from None

    def url(self, service: str, container_port: int) -> str:
        return f"http://{LOOPBACK}:{self.host_port(service, container_port)}"

    def _address(self, text: str, own: str | None = None) -> str:
        """'db:5432' -> 127.0.0.1:<db's host port>, anywhere in `text` (a URL, a target); with `own`, also
        that service's '127.0.0.1:<port>' and 'localhost:<port>' (addresses inside its own container)."""
        hosts = sorted(self.services, key=len, reverse=True)
        if own is not None:
            hosts += ["127.0.0.1", "localhost"]

        def replace(match: re.Match[str]) -> str:
            host, port = match.group(1), int(match.group(2))
            service = host if host in self.services else own
            assert service is not None
            return f"{LOOPBACK}:{self.host_port(service, port)}"

        pattern = rf"(?<![\w.-])({'|'.join(map(re.escape, hosts))}):(\d+)\b"
        return re.sub(pattern, replace, text)

    # --- what each service is given ------------------------------------------------------------------

    def _context(self, name: str) -> Path | None:
        build = self.services[name].get("build")
        if build is None:
            return None
        context = build if isinstance(build, str) else build["context"]
        return (self.project / context).resolve()

    def _image(self, name: str) -> list[tuple[str, str]]:
        context = self._context(name)
        return dockerfile.read(context / "Dockerfile") if context else []

    def environment(self, name: str) -> dict[str, str]:
        """The process environment of a service: the image's ENV, the compose `environment`, mapped."""
        service = self.services[name]
        given = {
            key: "" if value is None else str(value) for key, value in service.get("environment", {}).items()
        }
        env = {**dockerfile.environment(self._image(name)), **given}
        env = {key: self._address(value) for key, value in env.items()}
        server = env.get(contract.HOST_VARIABLE)  # the contract's host and port pair: both mapped
        if server in self.services:
            env[contract.HOST_VARIABLE] = LOOPBACK
            port = int(env.get(contract.PORT_OF_HOST_VARIABLE) or 5432)
            env[contract.PORT_OF_HOST_VARIABLE] = str(self.host_port(server, port))
        port = env.get(contract.PORT_VARIABLE, "")
        if port.isdigit() and int(port) in self.ports[name]:
            env[contract.PORT_VARIABLE] = str(self.host_port(name, int(port)))
            env["LISTEN_HOST"] = LOOPBACK
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}

    def _mounts(self, name: str) -> list[tuple[str, Path]]:
        """(container path, host path) of every volume, longest container path first."""
        mounts = []
        for volume in self.services[name].get("volumes", []):
            source, target = str(volume).split(":")[:2]
            if source.startswith((".", "/")):
                relative = os.path.normpath(source)
                if relative in self.overlay:
                    host = self.work / "overlay" / relative
                    host.parent.mkdir(parents=True, exist_ok=True)
                    host.write_text(self.overlay[relative], encoding="utf-8")
                else:
                    host = (self.project / source).resolve()
            else:
                host = self.work / "volumes" / source
                host.mkdir(parents=True, exist_ok=True)
            mounts.append((target.rstrip("/"), host))
        return sorted(mounts, key=lambda mount: len(mount[0]), reverse=True)

    def _path(self, name: str, argument: str) -> str:
        flag, equals, value = argument.partition("=") if argument.startswith("-") else ("", "", argument)
        for target, host in self._mounts(name):
            if value == target or value.startswith(target + "/"):
                return f"{flag}{equals}{host}{value[len(target) :]}"
        return argument

    def _argv(self, name: str, argv: list[str]) -> list[str]:
        mapped = [self._address(self._path(name, str(arg)), own=name) for arg in argv]
        if not mapped:
            raise ReplicaError(f"{name} has no command to run")
        if mapped[0] == "python" and self._context(name):
            mapped[0] = sys.executable  # the tests' Python: the image's libraries (tests/app/test_image.py)
        elif not Path(mapped[0]).is_absolute():
            found = shutil.which(mapped[0])
            if found is None:
                raise ReplicaError(f"{name}: {mapped[0]} is not on this machine's PATH")
            mapped[0] = found
        return mapped

    def command(self, name: str) -> list[str]:
        """entrypoint + command, with the image's ENTRYPOINT and CMD where the service sets none."""
        service, image = self.services[name], self._image(name)
        if "entrypoint" in service:  # as in Docker: a new entrypoint drops the image's CMD
            argv = [*service["entrypoint"], *service.get("command", [])]
        else:
            entrypoint = dockerfile.exec_form(image, "ENTRYPOINT") or []
            argv = [*entrypoint, *service.get("command", dockerfile.exec_form(image, "CMD") or [])]
        return self._argv(name, argv)

    # --- starting and stopping -----------------------------------------------------------------------

    def __enter__(self) -> Replica:
        try:
            self.up()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def up(self) -> None:
        """Start every service in the compose order, each once its dependencies meet their conditions;
        return once the long-running ones are healthy (`docker compose up --wait`)."""
        problems = spec.dependency_problems(self.services)
        if problems:
            raise ReplicaError("; ".join(problems))
        for name in spec.start_order(self.services):
            for dependency, condition in spec.dependencies(self.services[name]).items():
                if condition == spec.HEALTHY:
                    self.wait_healthy(dependency)
                elif condition == spec.COMPLETED:
                    self.wait_completed(dependency)
            self.start(name)
        for name, service in self.services.items():
            if not spec.is_step(service):
                self.wait_healthy(name)

    def start(self, name: str) -> None:
        service = self.services[name]
        image = str(service.get("image", ""))
        running = self._running.get(name)
        if running and running.cluster is not None:
            running.cluster.start()  # a restart keeps the data, as the named volume would
        elif "build" in service or (image.startswith("postgres:") and "entrypoint" in service):
            cwd = self._context(name) or self.work
            self._spawn(name, self.command(name), cwd)
        elif image.startswith("postgres:"):
            self._running[name] = _Running(cluster=self._postgres(name))
        elif image.startswith("prom/prometheus:"):
            self._spawn(name, self._prometheus(name), self.work)
        else:
            raise ReplicaError(f"{name}: no native stand-in for the image {image or '(none)'}")
        self.events.append(f"{name} started")

    def _spawn(self, name: str, argv: list[str], cwd: Path) -> None:
        with self.log(name).open("ab") as log:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=self.environment(name),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends its children too
            )
        self._running[name] = _Running(process=process)

    def _postgres(self, name: str) -> PgCluster:
        env = self.services[name].get("environment", {})
        superuser = env.get("POSTGRES_USER") or "postgres"
        cluster = PgCluster(
            port=self.host_port(name, 5432), superuser=superuser, password=env["POSTGRES_PASSWORD"]
        )
        try:
            cluster.init().start()
            database = env.get("POSTGRES_DB") or superuser
            if database != "postgres":
                cluster.create_database(database)
        except BaseException:
            cluster.cleanup()
            raise
        return cluster

    def _prometheus(self, name: str) -> list[str]:
        argv = self._argv(name, ["prometheus", *self.services[name].get("command", [])])
        config_flag = next((i for i, arg in enumerate(argv) if arg.startswith("--config.file=")), None)
        if config_flag is None:
            raise ReplicaError(f"{name}: no --config.file in its command")
        config = yaml.safe_load(Path(argv[config_flag].split("=", 1)[1]).read_text(encoding="utf-8"))
        for job in config.get("scrape_configs", []):
            for group in job.get("static_configs", []):
                group["targets"] = [self._address(str(target), own=name) for target in group["targets"]]
        rewritten = self.work / name / "prometheus.yml"
        rewritten.parent.mkdir(parents=True, exist_ok=True)
        rewritten.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        argv[config_flag] = f"--config.file={rewritten}"
        (port,) = self.ports[name]
        return [*argv, f"--web.listen-address={LOOPBACK}:{self.host_port(name, port)}"]

    def log(self, name: str) -> Path:
        running = self._running.get(name)
        if running and running.cluster is not None:
            return running.cluster.log
        return self.work / "logs" / f"{name}.log"

    def _tail(self, name: str, lines: int = 20) -> str:
        path = self.log(name)
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, name: str) -> None:
        running = self._running.get(name)
        self._healthy.discard(name)
        if running is not None and running.cluster is not None and running.cluster.running:
            running.cluster.stop()
        elif running is not None and running.process is not None and running.process.poll() is None:
            os.killpg(running.process.pid, signal.SIGTERM)  # the signal the app contract names
            try:
                running.process.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                os.killpg(running.process.pid, signal.SIGKILL)
                running.process.wait()
        else:
            return  # not running: nothing stopped
        self.events.append(f"{name} stopped")

    def close(self) -> None:
        for name in reversed(list(self._running)):
            try:
                self.stop(name)
            finally:
                cluster = self._running[name].cluster
                if cluster is not None:
                    cluster.cleanup()
        self._running.clear()

    # --- conditions ----------------------------------------------------------------------------------

    def wait_completed(self, name: str) -> None:
        """service_completed_successfully: the step exited 0."""
        process = self._running[name].process
        assert process is not None
        if process.returncode is None:
            try:
                process.wait(timeout=STEP_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise ReplicaError(
                    f"{name} still runs after {STEP_TIMEOUT:.0f}s:\n{self._tail(name)}"
                ) from None
            self.events.append(f"{name} exited {process.returncode}")
        if process.returncode != 0:
            raise ReplicaError(f"{name} exited {process.returncode}:\n{self._tail(name)}")

    def check_health(self, name: str) -> bool:
        """Run the service's health check once, natively."""
        check = self.services[name]["healthcheck"]
        test = list(check["test"])
        if test[0] != "CMD":
            raise ReplicaError(f"{name}: write its health check in the CMD form (no shell here)")
        env = self.environment(name)
        running = self._running[name]
        if running.cluster is not None:  # inside the container: the local server
            env |= {"PGHOST": LOOPBACK, "PGPORT": str(running.cluster.port)}
        argv = self._argv(name, test[1:])
        try:
            done = subprocess.run(
                argv,
                cwd=self._context(name) or self.work,
                env=env,
                capture_output=True,
                check=False,
                timeout=seconds(check.get("timeout"), 30.0),
            )
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    def wait_healthy(self, name: str) -> None:
        """service_healthy: the health check passes before start_period + retries x interval ends."""
        if name in self._healthy:
            return
        check = self.services[name].get("healthcheck", {})
        interval = seconds(check.get("interval"), 30.0)
        budget = seconds(check.get("start_period"), 0.0) + int(check.get("retries", 3)) * interval
        deadline = time.monotonic() + budget + seconds(check.get("timeout"), 30.0)
        while not self.check_health(name):
            process = self._running[name].process
            if process is not None and process.poll() is not None:
                raise ReplicaError(
                    f"{name} exited {process.returncode} before it was healthy:\n{self._tail(name)}"
                )
            if time.monotonic() > deadline:
                raise ReplicaError(f"{name} is not healthy after {budget:.0f}s:\n{self._tail(name)}")
            time.sleep(min(interval, POLL))
        self._healthy.add(name)
        self.events.append(f"{name} healthy")
