"""A Terraform state document as the S3 backend stores it, read without Terraform (pure).

prenv reads a workspace's state object to learn what Terraform would say about it, without starting a
Terraform process: the object exists (the workspace exists: the S3 backend's workspace listing is the
list of those objects), its resource instances (what `terraform state list` prints), its outputs (what
`terraform output -json` prints). A document this module does not know (another state version, not a
JSON object) is not guessed at: `remaining()` and `outputs()` answer None and the caller asks Terraform.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# The state format Terraform >= 0.12 writes (and OpenTofu): resources[].instances[].
STATE_VERSION = 4


def parse(body: bytes) -> Mapping[str, Any] | None:
    """The state document in `body`, or None when it is not a JSON object."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _index(key: Any) -> str:
    if key is None:
        return ""
    return f"[{key}]" if isinstance(key, int) else f"[{json.dumps(key)}]"


def remaining(document: Mapping[str, Any] | None) -> list[str] | None:
    """The resource instances the state still holds, addressed as `terraform state list` prints them
    (data sources and deposed objects included: anything the state tracks counts); None when the
    document is not a version-4 state this function can read."""
    if document is None or document.get("version") != STATE_VERSION:
        return None
    resources = document.get("resources")
    if resources is None:
        return []
    if not isinstance(resources, list):
        return None
    found: list[str] = []
    for resource in resources:
        if not isinstance(resource, dict) or not isinstance(resource.get("instances", []), list):
            return None
        module = f"{resource['module']}." if resource.get("module") else ""
        mode = "data." if resource.get("mode") == "data" else ""
        address = f"{module}{mode}{resource.get('type', '')}.{resource.get('name', '')}"
        for instance in resource.get("instances", []):
            if not isinstance(instance, dict):
                return None
            found.append(address + _index(instance.get("index_key")))
    return found


def outputs(document: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The root module's outputs as `terraform output -json` prints them (`value`, `type`, `sensitive`
    of each; the state leaves `sensitive` out when it is false); None when the document is not a
    version-4 state this function can read."""
    if document is None or document.get("version") != STATE_VERSION:
        return None
    found = document.get("outputs", {})
    if not isinstance(found, dict) or not all(isinstance(doc, dict) for doc in found.values()):
        return None
    return {
        name: {"sensitive": bool(doc.get("sensitive")), "type": doc.get("type"), "value": doc.get("value")}
        for name, doc in found.items()
    }
