"""The embedded AWS emulator (moto server) and offline Terraform set-up, for `prenv sandbox` and the tests.

Nothing here is used when prenv runs against real AWS: it only starts moto in this process on a free
loopback port, fixes the emulator quirks that real AWS does not have (`prenv.sandbox.moto_compat`),
and points Terraform at the machine's local provider mirror when there is one.
"""

from __future__ import annotations

import logging
import os
import platform
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prenv.aws.client import Aws, AwsSettings, client_factory
from prenv.core.errors import FailureReason, PrenvError
from prenv.sandbox import moto_compat

PROVIDER_SUBPATH = ("registry.terraform.io", "hashicorp", "aws")

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # not a secret: moto accepts any key
    "AWS_SESSION_TOKEN": "testing",
}

# Removed from the environment of a run against the emulator: AWS credentials and endpoints, GitHub tokens
# and outputs, and what would redirect Terraform (variables, arguments, workspace, data directory).
_FOREIGN_PREFIXES = ("AWS_", "GITHUB_", "TF_VAR_", "TF_CLI_ARGS")
_FOREIGN = frozenset({"GH_TOKEN", "PRENV_CONFIG", "TF_WORKSPACE", "TF_DATA_DIR"})

# Not searched for a provider mirror: virtual file systems, scratch space and container storage.
_PRUNE = frozenset({"/proc", "/sys", "/dev", "/run", "/tmp", "/var/lib/docker", "/snap"})  # noqa: S108


def _platform_dir() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{platform.system().lower()}_{arch}"


def _is_mirror(path: Path) -> bool:
    """True when `path` is a filesystem mirror holding the AWS provider for this platform."""
    aws = path.joinpath(*PROVIDER_SUBPATH)
    try:
        return any(
            any(
                child.name.startswith("terraform-provider-aws")
                for child in version.joinpath(_platform_dir()).iterdir()
            )
            for version in aws.iterdir()
            if version.joinpath(_platform_dir()).is_dir()
        )
    except OSError:
        return False


def _candidate_roots(named: str, data_home: str) -> Iterator[Path]:
    if named:
        yield Path(named)
    home = Path.home()
    yield home / ".terraform.d" / "plugins"
    yield Path(data_home or home / ".local" / "share") / "terraform" / "plugins"
    yield Path("/usr/local/share/terraform/plugins")
    yield Path("/usr/share/terraform/plugins")


def _walk_for_mirror(top: Path, max_depth: int) -> Path | None:
    """Breadth-limited search for a directory that contains `registry.terraform.io/hashicorp/aws`."""
    stack: list[tuple[Path, int]] = [(top, 0)]
    while stack:
        directory, depth = stack.pop()
        if str(directory) in _PRUNE:
            continue
        try:
            entries = [entry for entry in os.scandir(directory) if entry.is_dir(follow_symlinks=False)]
        except OSError:
            continue
        for entry in entries:
            if entry.name == PROVIDER_SUBPATH[0] and _is_mirror(directory):
                return directory
        if depth < max_depth:
            stack.extend((Path(entry.path), depth + 1) for entry in entries if not entry.name.startswith("."))
    return None


def find_provider_mirror(named: str = "", data_home: str = "") -> Path | None:
    """The local filesystem mirror that holds the AWS provider, or None when Terraform must download it.

    Looks at `named` (PRENV_PROVIDER_MIRROR) and Terraform's implied mirror directories first (under
    `data_home`, XDG_DATA_HOME), then searches the file system (a few levels deep, skipping virtual
    file systems) for `registry.terraform.io/hashicorp/aws`.
    """
    for root in _candidate_roots(named, data_home):
        if _is_mirror(root):
            return root
    return _walk_for_mirror(Path("/"), max_depth=4)


def write_cli_config(directory: Path, mirror: Path | None = None, plugin_cache: Path | None = None) -> Path:
    """Write a Terraform CLI configuration that installs providers from `mirror` (and caches plugins).

    With no mirror the file only sets the plugin cache, so Terraform downloads the provider as usual.
    """
    directory.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    if plugin_cache is not None:
        plugin_cache.mkdir(parents=True, exist_ok=True)
        lines.append(f'plugin_cache_dir = "{plugin_cache}"')
    if mirror is not None:
        lines += [
            "provider_installation {",
            "  filesystem_mirror {",
            f'    path    = "{mirror}"',
            '    include = ["registry.terraform.io/hashicorp/*"]',
            "  }",
            "  direct {",
            '    exclude = ["registry.terraform.io/hashicorp/*"]',
            "  }",
            "}",
        ]
    path = directory / "terraform.rc"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Emulator:
    """A running moto server. `endpoint` is what AWS_ENDPOINT_URL points at."""

    server: Any
    endpoint: str
    region: str

    def environment(self) -> dict[str, str]:
        """Variables that send the AWS SDKs, the AWS CLI and Terraform to this emulator."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            **FAKE_CREDENTIALS,
        }

    def isolated_environment(
        self, base: Mapping[str, str], cli_dir: Path, mirror: Path | None
    ) -> dict[str, str]:
        """`base` without anything that could reach a real AWS account, GitHub or another Terraform set-up,
        then this emulator's variables and a Terraform CLI configuration using `mirror` (if any)."""
        env = {k: v for k, v in base.items() if not k.startswith(_FOREIGN_PREFIXES) and k not in _FOREIGN}
        env.update(self.environment())
        env["TF_CLI_CONFIG_FILE"] = str(write_cli_config(cli_dir, mirror))
        return env

    def aws_settings(self) -> AwsSettings:
        """What the AWS adapter needs to reach this emulator."""
        return AwsSettings(endpoint=self.endpoint, credentials=boto_credentials(), region=self.region)

    def stop(self) -> None:
        self.server.stop()


def start_emulator(region: str = "us-east-1") -> Emulator:
    """Start moto server in this process on 127.0.0.1 and a free port."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise PrenvError(
            "The embedded AWS emulator is not installed.",
            reason=FailureReason.AWS_UNAVAILABLE,
            hint="Install it with: pip install 'prenv[sandbox]'",
        ) from exc
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    moto_compat.apply()  # what the preview stack needs of moto, and what it must read back
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return Emulator(server=server, endpoint=f"http://{host}:{port}", region=region)


def create_bucket(emu: Emulator, bucket: str) -> None:
    """Create the state bucket in the emulator, versioned like the real one."""
    aws = Aws(client_factory(emu.aws_settings(), emu.region))
    aws.call("S3 CreateBucket (emulator)", "s3", "create_bucket", Bucket=bucket)
    versioning = {"Status": "Enabled"}
    aws.call(
        "S3 PutBucketVersioning (emulator)",
        "s3",
        "put_bucket_versioning",
        Bucket=bucket,
        VersioningConfiguration=versioning,
    )


def boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
    }
