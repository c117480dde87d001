"""Records every AWS call that reaches the in-process moto server, as (service, operation, parameters).

A WSGI middleware wrapped around the server's application (from the test side: prenv/emulator.py is
untouched). Each request is parsed with moto's own protocol parsers (query, ec2, json, rest-json,
rest-xml) from botocore's service models, so the parameters are exactly what the SDK sent; the response
is parsed too (the ids and ARNs AWS gave what was created), with botocore's response parsers.

Who made the call comes from its User-Agent: prenv marks its own boto3 calls and every Terraform run it
starts with `prenv/<version>` (prenv.USER_AGENT); Terraform's AWS provider adds
`terraform-provider-aws/...`. Calls without prenv's mark (the tests' own boto3 clients, a maintainer's
apply of terraform/base or bootstrap) are recorded as `other`.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prenv import USER_AGENT

# The signing name in the credential scope of SigV4 -> botocore's service name.
_SIGNING_NAMES = {
    "elasticloadbalancing": "elbv2",  # the classic ELB API (Version 2012-06-01) is never used by prenv
    "tagging": "resourcegroupstaggingapi",
    "monitoring": "cloudwatch",
    "ecr": "ecr",
}
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
PRENV_MARK = USER_AGENT.split("/", 1)[0] + "/"  # "prenv/"
PROVIDER_MARK = "terraform-provider-aws/"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass(frozen=True)
class Call:
    """One AWS request as the server received it."""

    service: str  # botocore's service name: "ecs", "elbv2", "s3", ...
    operation: str  # the API operation: "RegisterTaskDefinition"
    params: dict[str, Any]  # the request's parameters, as the SDK's input shape names them
    region: str
    actor: str  # "prenv" (its boto3 clients), "terraform" (the S3 backend), "provider", "other"
    status: int = 0
    response: dict[str, Any] = field(default_factory=dict)  # the parsed response (2xx only)
    test: str = ""  # the pytest node id the call was made in ("" outside a test)
    user_agent: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "operation": self.operation,
            "params": self.params,
            "region": self.region,
            "actor": self.actor,
            "status": self.status,
            "response": self.response,
            "test": self.test,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Call:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def actor_of(user_agent: str) -> str:
    if PRENV_MARK not in user_agent:
        return "other"
    if PROVIDER_MARK in user_agent:
        return "provider"
    if "Terraform/" in user_agent:
        return "terraform"
    return "prenv"


def _jsonable(value: Any) -> Any:
    """Parsed values as plain JSON data (datetimes and bytes as text, streams dropped)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "read"):
        return None
    return str(value)


def _service_model(name: str) -> Any:
    from moto.core.utils import get_service_model

    return get_service_model(name)


def parse_request(environ: dict[str, Any], body: bytes) -> tuple[str, str, str, dict[str, Any]] | None:
    """(service, region, operation, parameters) of one request; None when it is not a signed AWS call."""
    from moto.core.parse import PROTOCOL_PARSERS
    from moto.core.request import Request, determine_request_protocol
    from moto.core.routing import get_service_router

    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if scope is None:
        return None
    region, signing_name = scope.groups()
    service = _SIGNING_NAMES.get(signing_name, signing_name)
    model = _service_model(service)
    request = Request(dict(environ, **{"wsgi.input": io.BytesIO(body)}))
    request.get_data(cache=True, parse_form_data=True)
    target = request.headers.get("X-Amz-Target", "")
    uri_params: dict[str, Any] = {}
    if model.protocol in ("query", "ec2"):
        operation = request.values.get("Action", "")
    elif target:
        operation = target.rsplit(".", 1)[-1]
    else:
        matched, uri_params = get_service_router(service).match(request)
        operation = matched.name
    operation_model = model.operation_model(operation)
    protocol = determine_request_protocol(model, request.content_type)
    parser = PROTOCOL_PARSERS[protocol](operation_model)
    params = parser.parse(
        {
            "method": request.method,
            "values": request.values,
            "headers": request.headers,
            "body": body,
            "url_path": request.path,
            "url_params": uri_params,
        }
    )
    return service, region, operation, _jsonable(params)


def parse_response(service: str, operation: str, status: int, headers: Any, body: bytes) -> dict[str, Any]:
    """The parsed output of a successful response (botocore's own response parsers)."""
    from botocore.parsers import create_parser

    model = _service_model(service)
    operation_model = model.operation_model(operation)
    if operation_model.output_shape is None or not 200 <= status < 300:
        return {}
    parser = create_parser(model.protocol)
    parsed = parser.parse(
        {"status_code": status, "headers": dict(headers), "body": body}, operation_model.output_shape
    )
    parsed.pop("ResponseMetadata", None)
    parsed.pop("Body", None)  # object contents (Terraform state) are not the recorder's business
    return dict(_jsonable(parsed))


class Recorder:
    """The middleware: records each request, then hands it to moto unchanged."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.calls: list[Call] = []
        self.errors: list[str] = []  # requests the recorder could not parse (a test fails on them)
        self.test = ""  # set by the plugin around each test
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        body = self._read_body(environ)
        captured: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            captured["status"], captured["headers"] = int(status.split(" ", 1)[0]), headers
            return start_response(status, headers, *args)

        chunks = list(self.app(environ, keep))
        self._record(environ, body, captured.get("status", 0), captured.get("headers", []), b"".join(chunks))
        yield from chunks

    @staticmethod
    def _read_body(environ: dict[str, Any]) -> bytes:
        """The request body, put back for moto (the dev server may hand it over chunked)."""
        from werkzeug.wsgi import get_input_stream

        body = get_input_stream(environ).read()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input_terminated"] = False
        return body

    def _record(self, environ: dict[str, Any], body: bytes, status: int, headers: Any, answer: bytes) -> None:
        user_agent = environ.get("HTTP_USER_AGENT", "")
        try:
            parsed = parse_request(environ, body)
            if parsed is None:
                return
            service, region, operation, params = parsed
            response = parse_response(service, operation, status, headers, answer)
        except Exception as exc:
            with self._lock:
                self.errors.append(
                    f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')} ({user_agent}): {exc!r}"
                )
            return
        call = Call(
            service=service,
            operation=operation,
            params=params,
            region=region,
            actor=actor_of(user_agent),
            status=status,
            response=response,
            test=self.test,
            user_agent=user_agent,
        )
        with self._lock:
            self.calls.append(call)


def install(server: Any) -> Recorder:
    """Wrap the application of a running ThreadedMotoServer (prenv.sandbox.emulator.Emulator.server)."""
    wsgi_server = server._server
    if isinstance(wsgi_server.app, Recorder):
        return wsgi_server.app
    recorder = Recorder(wsgi_server.app)
    wsgi_server.app = recorder
    return recorder
