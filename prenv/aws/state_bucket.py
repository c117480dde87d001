"""The S3 state bucket, read and annotated by prenv (boto3 adapter).

Terraform owns the state objects (`<workspace_key_prefix>/<workspace>/<key>`) and their lock files
(`... .tflock`); prenv never writes or deletes them here. Beside them prenv keeps two small markers per
workspace, which Terraform's workspace listing ignores (it only counts keys ending in `/<key>`):

- `prenv-deployed.json`: written by every `prenv deploy`, also when nothing changed, so "idle" means
  "no deploy for that long", not "no infrastructure change"; it also remembers the PR's sticky
  comment (id, author, hash of its body), read back by the next deploy or destroy (`read_deploy`);
- `prenv-warned.json`: written when cleanup warns that an idle preview will be destroyed.

One paginated listing gives cleanup every workspace, its state's age, both markers and its lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prenv.core import naming
from prenv.core.cleanup import Lock, Preview
from prenv.core.config import Config

DEPLOYED = "prenv-deployed.json"
WARNED = "prenv-warned.json"
MARKERS = (DEPLOYED, WARNED)


def s3_client(config: Config, env: Mapping[str, str]) -> Any:
    """A boto3 S3 client for the state bucket, from the command's environment (endpoint, credentials)."""
    from prenv.aws.client import make_client

    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    path_style = (
        config.backend.use_path_style if config.backend.use_path_style is not None else bool(endpoint)
    )
    return make_client(
        env, config.backend.region, "s3", s3={"addressing_style": "path" if path_style else "auto"}
    )


@dataclass
class Listing:
    """What one listing of the bucket found."""

    previews: list[Preview] = field(default_factory=list)
    # Workspaces with prenv markers but no state (left by an interrupted destroy): markers to drop.
    leftover_markers: list[str] = field(default_factory=list)
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
        }.get(rest)
        if kind is not None:
            found.setdefault(workspace, {})[kind] = modified
    for workspace, kinds in sorted(found.items()):
        number = naming.pr_number_from_workspace(config.workspace_pattern, workspace)
        if number is None:
            continue
        if "state" not in kinds:
            if "deployed" in kinds or "warned" in kinds:
                listing.leftover_markers.append(workspace)
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
            )
        )
    listing.previews.sort(key=lambda p: p.pr_number)
    return listing


@dataclass
class StateBucket:
    config: Config
    client: Any

    @property
    def bucket(self) -> str:
        return self.config.backend.bucket

    def _key(self, workspace: str, name: str) -> str:
        return f"{self.config.backend.workspace_key_prefix.strip('/')}/{workspace}/{name}"

    def list(self) -> Listing:
        """Every preview workspace in one paginated listing (1 request per 1,000 objects)."""
        prefix = self.config.backend.workspace_key_prefix.strip("/") + "/"
        entries: list[tuple[str, datetime]] = []
        pages = 0
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            pages += 1
            entries += [(item["Key"], item["LastModified"]) for item in page.get("Contents", [])]
        listing = _parse(self.config, entries)
        listing.pages = pages
        return listing

    def read_lock(self, workspace: str, modified: datetime) -> Lock:
        """The lock object's contents: who holds it, since when, with which ID."""
        key = self._key(workspace, self.config.backend.key + ".tflock")
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
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

    def read_deploy(self, workspace: str) -> dict[str, Any] | None:
        """The deploy marker's contents (None when there is none, or it is not a JSON object)."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(workspace, DEPLOYED))
        except self.client.exceptions.NoSuchKey:
            return None
        try:
            data = json.loads(answer["Body"].read())
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def record_deploy(self, workspace: str, details: Mapping[str, Any]) -> None:
        body = {"deployed_at": datetime.now(UTC).isoformat(timespec="seconds"), **details}
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(workspace, DEPLOYED),
            Body=json.dumps(body).encode(),
            ContentType="application/json",
        )

    def record_warning(self, workspace: str, expires_at: datetime) -> None:
        body = {
            "warned_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "expires_at": expires_at.isoformat(timespec="seconds"),
        }
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(workspace, WARNED),
            Body=json.dumps(body).encode(),
            ContentType="application/json",
        )

    def forget(self, workspace: str) -> None:
        """Drop prenv's markers of a workspace whose state is gone. Never touches state or locks."""
        self.client.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": self._key(workspace, name)} for name in MARKERS], "Quiet": True},
        )
