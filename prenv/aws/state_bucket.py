"""The S3 state bucket, read and annotated by prenv (through the AWS adapter).

Terraform owns the state objects (`<workspace_key_prefix>/<workspace>/<key>`) and their lock files
(`... .tflock`); prenv never writes or deletes them here, and reads a state object only to learn whether
the workspace exists and what it still holds (`state_body`, for the engine). Beside them prenv keeps small
records per workspace, which Terraform's workspace listing ignores (it only counts keys ending in
`/<key>`):

- `prenv-deployed.json`, the deploy record: written by every `prenv deploy`, also when nothing
  changed, so "idle" means "no deploy for that long", not "no infrastructure change"; it also
  remembers the PR's sticky comment (id, author, hash of its body), read back by the next deploy or
  destroy (`read_deploy`);
- `prenv-warned.json`, the warning record: written when cleanup warns that an idle preview will be
  destroyed;
- `prenv-sleeping.json`, the sleep record (`prenv.core.sleep`): written when cleanup puts an idle
  preview to sleep, deleted when it wakes.
- `prenv-seeded.json`, the seed record: written by the deploy whose seed step (config `hooks.seed`)
  exited 0, so later deploys leave it out; `--reseed` runs it again. It goes with the preview's other records.

One paginated listing gives cleanup every workspace, its state's age, its records and its lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prenv.aws.client import Aws, AwsError, classified
from prenv.core import naming
from prenv.core.cleanup import Lock, Preview
from prenv.core.config import Config

DEPLOYED = "prenv-deployed.json"
WARNED = "prenv-warned.json"
SLEEPING = "prenv-sleeping.json"
SEEDED = "prenv-seeded.json"
RECORDS = (DEPLOYED, WARNED, SLEEPING, SEEDED)
_HINT = "check the AWS credentials, the region and the backend settings in the config"


@dataclass
class Listing:
    """What one listing of the bucket found."""

    previews: list[Preview] = field(default_factory=list)
    # Workspaces with prenv's records but no state (left by an interrupted destroy): records to drop.
    leftover_records: list[str] = field(default_factory=list)
    objects: int = 0
    pages: int = 0


def _parse(config: Config, keys: Iterable[tuple[str, datetime]]) -> Listing:
    prefix = config.backend.workspace_key_prefix.strip("/") + "/"
    state_name = config.backend.key
    found: dict[str, dict[str, datetime]] = {}
    listing = Listing()
    for key, modified in keys:
        listing.objects += 1
        workspace, _, rest = key.removeprefix(prefix).partition("/")
        if not key.startswith(prefix) or not rest:
            continue
        kind = {
            state_name: "state",
            state_name + ".tflock": "lock",
            DEPLOYED: "deployed",
            WARNED: "warned",
            SLEEPING: "sleeping",
            SEEDED: "seeded",
        }.get(rest)
        if kind is not None:
            found.setdefault(workspace, {})[kind] = modified
    for workspace, kinds in sorted(found.items()):
        number = naming.pr_number_from_workspace(config.workspace_pattern, workspace)
        if number is None:
            continue
        if "state" not in kinds:
            if kinds.keys() & {"deployed", "warned", "sleeping", "seeded"}:
                listing.leftover_records.append(workspace)
            continue
        lock = (
            Lock(id="", who="", operation="", created="", modified=kinds["lock"]) if "lock" in kinds else None
        )
        listing.previews.append(
            Preview(
                workspace=workspace,
                pr_number=number,
                state_modified=kinds["state"],
                deployed_at=kinds.get("deployed"),
                warned_at=kinds.get("warned"),
                lock=lock,
                slept_at=kinds.get("sleeping"),
            )
        )
    listing.previews.sort(key=lambda p: p.pr_number)
    return listing


@dataclass
class StateBucket:
    """The state bucket of `config`; `aws` reaches its region (with the S3 addressing style set)."""

    config: Config
    aws: Aws

    @property
    def bucket(self) -> str:
        return self.config.backend.bucket

    def _key(self, workspace: str, name: str) -> str:
        return f"{self.config.backend.workspace_key_prefix.strip('/')}/{workspace}/{name}"

    def _objects(self, prefix: str) -> tuple[list[tuple[str, datetime]], int]:
        """(key, last modified) of every object under `prefix`, and the pages it took."""
        entries: list[tuple[str, datetime]] = []
        pages = 0
        what = f"S3 ListObjectsV2 of s3://{self.bucket}/{prefix}"
        for page in self.aws.pages(
            what, "s3", "list_objects_v2", hint=_HINT, Bucket=self.bucket, Prefix=prefix
        ):
            pages += 1
            entries += [(item["Key"], item["LastModified"]) for item in page.get("Contents", [])]
        return entries, pages

    def list_previews(self) -> Listing:
        """Every preview workspace in one paginated listing (1 request per 1,000 objects)."""
        entries, pages = self._objects(self.config.backend.workspace_key_prefix.strip("/") + "/")
        listing = _parse(self.config, entries)
        listing.pages = pages
        return listing

    def preview_workspaces(self) -> list[str]:
        """Every preview's workspace (with a state, named by the workspace pattern), for the cap."""
        return [preview.workspace for preview in self.list_previews().previews]

    def workspace_keys(self, workspace: str) -> list[str]:
        """The keys of every object of `workspace` (its state, lock and records)."""
        return [key for key, _ in self._objects(self._key(workspace, ""))[0]]

    def _read(self, key: str) -> bytes:
        what = f"S3 GetObject of s3://{self.bucket}/{key}"
        answer = self.aws.call(what, "s3", "get_object", hint=_HINT, Bucket=self.bucket, Key=key)
        with classified(what, hint=_HINT):
            body: bytes = answer["Body"].read()
        return body

    def _write(self, key: str, body: Mapping[str, Any]) -> None:
        self.aws.call(
            f"S3 PutObject of s3://{self.bucket}/{key}",
            "s3",
            "put_object",
            hint=_HINT,
            Bucket=self.bucket,
            Key=key,
            Body=json.dumps(body).encode(),
            ContentType="application/json",
        )

    def read_lock(self, workspace: str, modified: datetime) -> Lock:
        """The lock object's contents: who holds it, since when, with which ID."""
        body = self._read(self._key(workspace, self.config.backend.key + ".tflock"))
        try:
            info = json.loads(body)
        except ValueError:
            info = {}
        return Lock(
            id=str(info.get("ID", "")),
            who=str(info.get("Who", "")),
            operation=str(info.get("Operation", "")),
            created=str(info.get("Created", "")),
            modified=modified,
        )

    def read_seeded(self, workspace: str) -> dict[str, Any] | None:
        """The seed record's contents (None: the preview's seed step has not run)."""
        return self._read_json(self._key(workspace, SEEDED))

    def record_seeded(self, workspace: str, details: Mapping[str, Any]) -> None:
        body = {"seeded_at": datetime.now(UTC).isoformat(timespec="seconds"), **details}
        self._write(self._key(workspace, SEEDED), body)

    def _read_if_any(self, key: str) -> bytes | None:
        """The object's body; None when there is no such object (or its latest version is a delete marker)."""
        try:
            return self._read(key)
        except AwsError as exc:
            if exc.code == "NoSuchKey":
                return None
            raise

    def _read_json(self, key: str) -> dict[str, Any] | None:
        """The JSON object at `key` (None when there is none, or it is not a JSON object)."""
        body = self._read_if_any(key)
        if body is None:
            return None
        try:
            data = json.loads(body)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def state_body(self, workspace: str) -> bytes | None:
        """The body of `workspace`'s state object as Terraform last wrote it (read-only); None when the
        workspace has no state, which is what makes Terraform's S3 backend count it as a workspace (a
        body that is not JSON still means the workspace exists: the engine asks Terraform about it)."""
        return self._read_if_any(self._key(workspace, self.config.backend.key))

    def read_state(self, workspace: str) -> dict[str, Any] | None:
        """The workspace's Terraform state (read only; None when it has none)."""
        return self._read_json(self._key(workspace, self.config.backend.key))

    def read_deploy(self, workspace: str) -> dict[str, Any] | None:
        """The deploy record's contents (None when there is none, or it is not a JSON object)."""
        return self._read_json(self._key(workspace, DEPLOYED))

    def read_sleep(self, workspace: str) -> dict[str, Any] | None:
        """The sleep record's contents (None: the preview is not asleep, or the record is not JSON)."""
        return self._read_json(self._key(workspace, SLEEPING))

    def record_sleep(self, workspace: str, body: Mapping[str, Any]) -> None:
        self._write(self._key(workspace, SLEEPING), body)

    def drop_sleep(self, workspace: str) -> None:
        """The preview is awake: its sleep record goes (deleting a missing key is no error in S3)."""
        key = self._key(workspace, SLEEPING)
        self.aws.call(
            f"S3 DeleteObject of s3://{self.bucket}/{key}",
            "s3",
            "delete_object",
            hint=_HINT,
            Bucket=self.bucket,
            Key=key,
        )

    def record_deploy(self, workspace: str, details: Mapping[str, Any]) -> None:
        body = {"deployed_at": datetime.now(UTC).isoformat(timespec="seconds"), **details}
        self._write(self._key(workspace, DEPLOYED), body)

    def record_warning(self, workspace: str, expires_at: datetime) -> None:
        body = {
            "warned_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "expires_at": expires_at.isoformat(timespec="seconds"),
        }
        self._write(self._key(workspace, WARNED), body)

    def forget(self, workspace: str) -> None:
        """Drop prenv's records of a workspace whose state is gone. Never touches state or locks."""
        self.aws.call(
            f"S3 DeleteObjects of prenv's records of {workspace} in s3://{self.bucket}",
            "s3",
            "delete_objects",
            hint=_HINT,
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": self._key(workspace, name)} for name in RECORDS], "Quiet": True},
        )
