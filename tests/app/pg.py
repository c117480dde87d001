"""A throwaway PostgreSQL cluster in a temporary folder, from the server binaries on PATH.

initdb refuses to run as root, so when the tests run as root the server runs as the `postgres` user
(or `nobody`), in a folder that user owns.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

USER = "app"
PASSWORD = "s3cret-for-tests"  # only for this throwaway cluster


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError("running as root and neither a postgres nor a nobody user exists for the server")


def binaries_missing() -> str:
    missing = [name for name in ("initdb", "pg_ctl", "postgres") if shutil.which(name) is None]
    return ", ".join(missing)


@dataclass
class PgCluster:
    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="prenv-pg-")))
    port: int = field(default_factory=free_port)
    user: str | None = field(default_factory=_server_user)

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def sockets(self) -> Path:
        return self.base / "sock"

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            list(argv), user=self.user, capture_output=True, text=True, check=False, cwd=self.base, timeout=60
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done

    def init(self) -> PgCluster:
        self.sockets.mkdir(parents=True)
        password_file = self.base / "pw"
        password_file.write_text(PASSWORD + "\n", encoding="utf-8")
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            for path in (self.base, self.sockets, password_file):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb", "--pgdata", str(self.data), "--username", USER, "--pwfile", str(password_file),
            "--auth", "scram-sha-256", "--encoding", "UTF8", "--no-instructions",
        )  # fmt: skip
        return self

    def start(self) -> PgCluster:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "--pgdata", str(self.data), "--wait", "--log", str(self.base / "log"),
                  "--options", options, "start")  # fmt: skip
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "--pgdata", str(self.data), "--wait", "--mode", "fast", "stop")

    def cleanup(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def env(self, **extra: str) -> dict[str, str]:
        """The app's environment for this cluster, as the ECS task receives it."""
        return {
            "DB_HOST": str(self.sockets),
            "DB_PORT": str(self.port),
            "DB_NAME": "postgres",
            "DB_USERNAME": USER,
            "DB_PASSWORD": PASSWORD,
            **extra,
        }
