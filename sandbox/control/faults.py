"""Fault injection: `POST|GET|DELETE /_sandbox/tenants/{tenant}/faults` (control-plane.md "Policy and faults")."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from sandbox.control.common import SandboxError, json_body, respond, tenant_of
from sandbox.control.parse import Fields
from sandbox.control.routing import ControlRoute as Route
from sandbox.domain.commands import AddFault
from sandbox.domain.errors import Invalid, is_integer, is_number
from sandbox.domain.fault import MAX_LATENCY_SECONDS, Distribution, FaultMatch, Latency, Mode, PathPattern
from sandbox.errors import GraphErrorCode
from sandbox.services import faults

FAULT_KEYS = (
    "match", "error", "mode", "http_status", "latency_ms", "drop_connection", "drop", "headers", "times", "probability",
)  # fmt: skip
MATCH_KEYS = ("method", "path", "path_regex", "phone_number_id", "recipient", "type", "template")
ERROR_SHAPE = '{"code": <Graph error code>, "details"?, "subcode"?, "mode"?}'
KNOWN_CODE = "a Graph error code the sandbox knows (GET /_sandbox/errors)"
# What each latency distribution is drawn from, in the order `Latency` takes them.
LATENCY_KEYS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "uniform": ("min", "max"),
    "normal": ("mean", "stddev"),
    "exponential": ("mean",),
}
LATENCY_PARAMETERS = tuple(dict.fromkeys(key for keys in LATENCY_KEYS.values() for key in keys))
MAX_LATENCY_MS = MAX_LATENCY_SECONDS * 1000
MATCH_LENGTH = faults.PATTERN_LENGTH
DETAILS_LENGTH = 2048
MAX_HEADERS = 50
MAX_TIMES = 1_000_000
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_NOT_DIGITS = re.compile(r"[^0-9]")


def parse_fault(body: Fields) -> AddFault:
    """A fault from its control-plane document; `Invalid` names the first problem, and nothing is added."""
    body.only(FAULT_KEYS)
    mode: Mode | None = body.choice("mode", Mode, what='"sync" or "async"')
    code = details = subcode = None
    raw = body.raw("error")
    # A bare code is short for `{"code": ...}`.
    error = Fields({"code": raw}, "error") if is_integer(raw) else body.object("error", what=ERROR_SHAPE)
    if error is not None:
        error.only(("code", "details", "subcode", "mode"), list_known=False)
        code = error.choice("code", GraphErrorCode, required=True, what=KNOWN_CODE)
        details = error.text("details", max_length=DETAILS_LENGTH, min_length=0)
        subcode = error.integer("subcode", low=0, high=2**31 - 1)
        mode = error.choice("mode", Mode, default=mode, what='"sync" or "async"')
    drop_key = "drop_connection" if body.has("drop_connection") else "drop"
    return AddFault(
        match=_match(body.object("match")),
        code=code,
        details=details,
        subcode=subcode,
        mode=mode,
        http_status=body.integer("http_status", low=400, high=599, what="an HTTP error status between 400 and 599"),
        latency=_latency(body),
        drop=bool(body.flag(drop_key, default=False)),
        headers=_headers(body),
        times=body.integer(
            "times",
            low=1,
            high=MAX_TIMES,
            what=f"a positive integer up to {MAX_TIMES} (or null for every matching call)",
        ),
        probability=body.number("probability", low=0, high=1, default=1.0) or 0.0,
    )


def _match(match: Fields | None) -> FaultMatch:
    if match is None:
        return FaultMatch()
    match.only(MATCH_KEYS)
    given = {key: match.text(key, max_length=MATCH_LENGTH) for key in MATCH_KEYS}
    path, regex = _pattern(given, "path"), _pattern(given, "path_regex")
    recipient = given["recipient"]
    if recipient is not None:
        recipient = _NOT_DIGITS.sub("", recipient)
        if not 7 <= len(recipient) <= 15:
            raise Invalid("match.recipient must be a phone number of 7 to 15 digits")
    method = given["method"]
    return FaultMatch(
        method=method.upper() if method is not None else None,
        path=path,
        path_regex=regex,
        phone_number_id=given["phone_number_id"],
        recipient=recipient,
        type=given["type"],
        template=given["template"],
    )


def _pattern(given: dict[str, str | None], key: str) -> PathPattern | None:
    """The glob (`path`) or regular expression (`path_regex`) compiled now, by RE2, so a bad one is refused here
    and a good one matches every later call in linear time."""
    text = given[key]
    if text is None:
        return None
    try:
        return faults.compile_regex(text) if key == "path_regex" else faults.compile_glob(faults.strip_version(text))
    except ValueError as error:
        what = "regular expression (RE2 syntax)" if key == "path_regex" else "glob"
        raise Invalid(f"match.{key} is not a valid {what}: {error}") from None


def _latency(body: Fields) -> Latency | None:
    """Milliseconds, or a distribution's parameters; each bounded by the longest latency a fault can add."""
    if is_number(body.raw("latency_ms")):
        return Latency("fixed", body.number("latency_ms", low=0, high=MAX_LATENCY_MS, unit=" of milliseconds") or 0.0)
    spec = body.object("latency_ms", what='milliseconds or {"distribution": "uniform"|"normal"|"exponential", ...}')
    if spec is None:
        return None
    distribution: Distribution = spec.choice("distribution", Distribution, default="fixed")
    # Every distribution's parameters are read (those of another distribution must be numbers too, or absent), so
    # the description lists them all.
    given = {
        key: spec.number(
            key, low=0, high=MAX_LATENCY_MS, unit=" of milliseconds", required=key in LATENCY_KEYS[distribution]
        )
        for key in LATENCY_PARAMETERS
    }
    numbers = [given[key] or 0.0 for key in LATENCY_KEYS[distribution]]
    if distribution == "uniform" and numbers[0] > numbers[1]:
        raise Invalid("latency_ms.min must not exceed latency_ms.max")
    return Latency(distribution, *numbers)


def _headers(body: Fields) -> dict[str, str]:
    headers = body.strings("headers", max_items=MAX_HEADERS, max_length=DETAILS_LENGTH)
    for name, text in headers.items():
        if not _HEADER_NAME.match(name) or any(c in text for c in "\r\n\0"):
            raise Invalid(f"header {name!r} is not a valid HTTP header")
    return headers


async def create_fault(request: Request) -> Response:
    tenant = tenant_of(request)
    fault = faults.create_fault(tenant, parse_fault(Fields(await json_body(request, required=True))))
    return respond(fault.snapshot(), 201)


async def list_faults(request: Request) -> Response:
    return respond({"data": [fault.snapshot() for fault in tenant_of(request).faults.faults.values()]})


async def get_fault(request: Request) -> Response:
    fault = tenant_of(request).faults.faults.get(request.path_params["fault_id"])
    if fault is None:
        raise SandboxError(404, f"no fault {request.path_params['fault_id']!r}")
    return respond(fault.snapshot())


async def delete_fault(request: Request) -> Response:
    if tenant_of(request).faults.remove(request.path_params["fault_id"]) is None:
        raise SandboxError(404, f"no fault {request.path_params['fault_id']!r}")
    return respond({"success": True})


async def delete_faults(request: Request) -> Response:
    return respond({"success": True, "removed": tenant_of(request).faults.clear()})


routes = [
    Route(
        "/_sandbox/tenants/{tenant}/faults",
        create_fault,
        methods=["POST"],
        body=parse_fault,
        body_required=True,
        status=201,
    ),
    Route("/_sandbox/tenants/{tenant}/faults", list_faults, methods=["GET"], answer="List"),
    Route("/_sandbox/tenants/{tenant}/faults", delete_faults, methods=["DELETE"], answer="Success"),
    Route("/_sandbox/tenants/{tenant}/faults/{fault_id}", get_fault, methods=["GET"]),
    Route("/_sandbox/tenants/{tenant}/faults/{fault_id}", delete_fault, methods=["DELETE"], answer="Success"),
]
