"""The IAM policy simulator: @cloud-copilot/iam-simulate on Node, behind a small JSON-lines bridge.

`npm ci --prefix tests/iam` installs it (`.ci/run` does); `Simulator` starts `node simulate.mjs` once
and sends it one request per line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "simulate.mjs"
INSTALL_HINT = "install the simulator with `npm ci --prefix tests/iam` (Node >= 20)"

ALLOWED = "Allowed"


@dataclass(frozen=True)
class Request:
    """One authorization AWS makes: an action on a resource, with its request context."""

    action: str
    resource: str
    context: Mapping[str, str | list[str]] = field(default_factory=dict)
    why: str = ""  # empty for the call's own action; else the check AWS makes on the caller's behalf
    # The resource's own policy, where AWS evaluates one (a KMS key policy); None: no resource policy.
    resource_policy: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)

    def key(self) -> str:
        return json.dumps([self.action, self.resource, dict(sorted(self.context.items()))])

    def __str__(self) -> str:
        context = f" {json.dumps(dict(self.context), sort_keys=True)}" if self.context else ""
        why = f" ({self.why})" if self.why else ""
        return f"{self.action} on {self.resource}{context}{why}"


class SimulatorUnavailable(RuntimeError):
    pass


class Simulator:
    """A running `node simulate.mjs`. Thread-safe; close() ends it."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise SimulatorUnavailable(f"node is not on PATH: {INSTALL_HINT}")
        if not (HERE / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
            raise SimulatorUnavailable(f"@cloud-copilot/iam-simulate is missing: {INSTALL_HINT}")
        self._process = subprocess.Popen(
            [node, str(SCRIPT)],
            cwd=HERE,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lock = threading.Lock()
        self._cache: dict[str, str] = {}

    def evaluate(
        self,
        principal: str,
        request: Request,
        identity: Mapping[str, Any],
        boundary: Mapping[str, Any] | None = None,
        *,
        unvalidated: bool = False,
    ) -> str:
        """ "Allowed", "ImplicitlyDenied" or "ExplicitlyDenied"; a request the simulator refuses (an
        unknown action, a resource of the wrong type) raises ValueError with its reason."""
        payload = {
            "principal": principal,
            "action": request.action,
            "resource": request.resource,
            "account": principal.split(":")[4],
            "context": dict(request.context),
            "identity": dict(identity),
            "boundary": dict(boundary) if boundary else None,
            "resourcePolicy": dict(request.resource_policy) if request.resource_policy else None,
            "unvalidated": unvalidated,
        }
        key = json.dumps(payload, sort_keys=True)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            assert self._process.stdin is not None
            assert self._process.stdout is not None
            self._process.stdin.write(json.dumps({"id": 0, **payload}) + "\n")
            answer = json.loads(
                self._process.stdout.readline() or '{"result": "Error", "errors": "no answer"}'
            )
        if answer["result"] == "Error":
            raise ValueError(f"the simulator refused {request}: {json.dumps(answer.get('errors'))}")
        result = str(answer["result"])
        with self._lock:
            self._cache[key] = result
        return result

    def evaluate_all(
        self, principal: str, requests: Iterable[Request], identity: Mapping[str, Any], **kwargs: Any
    ) -> list[tuple[Request, str]]:
        return [(r, self.evaluate(principal, r, identity, **kwargs)) for r in requests]

    def close(self) -> None:
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        self._process.wait(timeout=10)
