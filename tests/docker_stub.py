"""A stand-in for the docker CLI (no Docker engine runs on these machines), for `prenv image` and the
end-to-end run of a user's workflow.

It records every call (argument list, and what `docker login` read on stdin), checks that a build names
an existing context and Dockerfile, and "pushes" by putting a manifest into the emulator's ECR with
boto3, so ECR holds the tag afterwards as it would. STUB_BUILD=fail fails the build; STUB_PUSH=race puts
the image and then fails as a push that lost a race for the tag does; STUB_PUSH=denied fails.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SCRIPT = r"""#!PYTHON
import json, os, pathlib, sys
log = pathlib.Path(os.environ["STUB_DOCKER_LOG"])
log.mkdir(parents=True, exist_ok=True)
args = sys.argv[1:]
with open(log / "calls", "a", encoding="utf-8") as calls:
    calls.write(json.dumps(args) + "\n")
command = args[0] if args else ""
if command == "login":
    (log / "login-stdin").write_text(sys.stdin.read(), encoding="utf-8")
    print("Login Succeeded")
elif command == "logout":
    pass
elif command == "build":
    context, dockerfile = pathlib.Path(args[-1]), pathlib.Path(args[args.index("--file") + 1])
    if os.environ.get("STUB_BUILD") == "fail":
        print("#7 [3/4] RUN make\nmake: *** No rule to make target 'all'.  Stop.", file=sys.stderr)
        sys.exit(1)
    if not (context.is_dir() and dockerfile.is_file()):
        print(f"unable to prepare context: {context} / {dockerfile}", file=sys.stderr)
        sys.exit(1)
    print("#8 naming to " + args[args.index("--tag") + 1] + " done")
elif command == "push":
    mode = os.environ.get("STUB_PUSH", "ok")
    image = args[1]
    if mode in ("ok", "race"):
        import boto3
        name, tag = image.rsplit(":", 1)
        boto3.client(
            "ecr", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"]
        ).put_image(repositoryName=name.split("/", 1)[1], imageTag=tag, imageManifest=MANIFEST_JSON)
    if mode == "race":
        print("tag invalid: The image tag '" + image.rsplit(":", 1)[1] + "' already exists", file=sys.stderr)
        sys.exit(1)
    if mode == "denied":
        print("denied: User is not authorized to perform: ecr:InitiateLayerUpload", file=sys.stderr)
        sys.exit(1)
else:
    print("stub docker: unexpected call " + " ".join(args), file=sys.stderr)
    sys.exit(2)
"""

MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {
        "mediaType": "application/vnd.docker.container.image.v1+json",
        "size": 2,
        "digest": "sha256:" + "0" * 64,
    },
    "layers": [],
}


def install(folder: Path) -> Path:
    """Write the stand-in as `folder/docker`; returns the folder (to put first on PATH)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = SCRIPT.replace("#!PYTHON", "#!" + sys.executable, 1)
    script = script.replace("MANIFEST_JSON", json.dumps(json.dumps(MANIFEST)), 1)
    path = folder / "docker"
    path.write_text(script, encoding="utf-8")
    path.chmod(0o755)
    return folder


def calls(log: Path) -> list[list[str]]:
    """The recorded calls, in order."""
    file = log / "calls"
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines()]
