"""Fault injection (control plane `/_sandbox/tenants/{tenant}/faults`): creating, listing and firing faults.

Sync faults fire in the Graph router before the call is handled; async faults fire when a send is accepted,
turning it into a `failed` status webhook. Each fault draws from its own generator seeded from the tenant seed
and the fault id, so a replay with the same seed and calls fails the same way.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from sandbox.context import Tenant
from sandbox.domain.fault import DISTRIBUTIONS, MODES, Fault, FaultMatch, GraphCall, Latency
from sandbox.domain.phone_number import PhoneNumber
from sandbox.errors import GraphError, GraphErrorCode, SandboxError
from sandbox.services.limits import exhausted_usage, throttled

MATCH_KEYS = ("method", "path", "path_regex", "phone_number_id", "recipient", "type", "template")
FAULT_KEYS = frozenset(
    {
        "match",
        "error",
        "mode",
        "http_status",
        "latency_ms",
        "drop_connection",
        "drop",
        "headers",
        "times",
        "probability",
    }
)
# The Graph error a bare `http_status` fault answers with.
STATUS_CODES = {
    401: GraphErrorCode.ACCESS_TOKEN_INVALID,
    403: GraphErrorCode.PERMISSION_DENIED,
    429: GraphErrorCode.TOO_MANY_CALLS,
    500: GraphErrorCode.SOMETHING_WENT_WRONG,
    503: GraphErrorCode.API_SERVICE,
}
# Graph-level errors that carry their own wording and no `error_data` (meta-messaging.md §1.2).
_BARE_GRAPH_ERRORS = frozenset({GraphErrorCode.ACCESS_TOKEN_REQUIRED, GraphErrorCode.ACCESS_TOKEN_INVALID})
_VERSION_PREFIX = re.compile(r"^/?v\d{1,2}\.\d{1,2}(?=/|$)")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_NOT_DIGITS = re.compile(r"[^0-9]")


@dataclass(frozen=True, slots=True)
class AcceptedFailure:
    """An async fault's effect on an accepted send: the failed status, after `delay` seconds of tenant time."""

    code: GraphErrorCode
    details: str
    delay: float


def strip_version(path: str) -> str:
    stripped = _VERSION_PREFIX.sub("", path)
    return stripped if stripped.startswith(("/", "*")) else "/" + stripped


def send_call(
    phone: PhoneNumber, to: str, wa_id: str | None, message_type: str | None, template: str | None
) -> GraphCall:
    """The facts of `POST /{phone-number-id}/messages` carrying a message."""
    recipients = tuple(dict.fromkeys(r for r in (_NOT_DIGITS.sub("", to), wa_id) if r))
    return GraphCall(
        method="POST",
        path=f"/{phone.id}/messages",
        phone_number_id=phone.id,
        recipients=recipients,
        message_type=message_type,
        template=template,
        is_send=True,
    )


# --- creating ---------------------------------------------------------------------------------------------------


def create_fault(tenant: Tenant, body: dict[str, Any]) -> Fault:
    """Parse a fault from its control-plane document; raises `SandboxError(400)` naming the first problem."""
    unknown = set(body) - FAULT_KEYS
    if unknown:
        known = ", ".join(sorted(FAULT_KEYS))
        raise SandboxError(400, f"unknown field(s): {', '.join(sorted(unknown))}; known: {known}")
    code, details, subcode, mode = _error(body.get("error"), body.get("mode"))
    http_status = body.get("http_status")
    if http_status is not None and (not _is_int(http_status) or not 400 <= http_status <= 599):
        raise SandboxError(400, "http_status must be an HTTP error status between 400 and 599")
    drop = body.get("drop_connection", body.get("drop", False))
    if not isinstance(drop, bool):
        raise SandboxError(400, "drop_connection must be true or false")
    latency = _latency(body.get("latency_ms"))
    if drop and (code is not None or http_status is not None):
        raise SandboxError(400, "a dropped connection sends no answer: give drop_connection without error/http_status")
    if code is None and http_status is None and not drop and latency is None:
        raise SandboxError(400, "a fault needs an effect: error, http_status, latency_ms or drop_connection")
    if mode == "async" and code is None:
        raise SandboxError(400, 'mode "async" needs an error code (the failed status carries it)')
    times = body.get("times")
    if times is not None and (not _is_int(times) or times < 1):
        raise SandboxError(400, "times must be a positive integer (or null for every matching call)")
    probability = body.get("probability", 1.0)
    if not isinstance(probability, int | float) or isinstance(probability, bool) or not 0 <= probability <= 1:
        raise SandboxError(400, "probability must be a number between 0 and 1")
    fault_id = tenant.faults.next_id()
    fault = Fault(
        id=fault_id,
        match=_match(body.get("match")),
        rng=random.Random(f"{tenant.seed}:fault:{fault_id}"),
        created_at=tenant.clock.now(),
        code=code,
        details=details,
        subcode=subcode,
        mode=mode,
        http_status=http_status,
        latency=latency,
        drop=drop,
        headers=_headers(body.get("headers")),
        times=times,
        probability=float(probability),
    )
    return tenant.faults.add(fault)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _match(value: Any) -> FaultMatch:
    if value is None:
        return FaultMatch()
    if not isinstance(value, dict):
        raise SandboxError(400, "match must be an object")
    unknown = set(value) - set(MATCH_KEYS)
    if unknown:
        raise SandboxError(400, f"unknown match field(s): {', '.join(sorted(unknown))}; known: {', '.join(MATCH_KEYS)}")
    for key, given in value.items():
        if not isinstance(given, str) or not given:
            raise SandboxError(400, f"match.{key} must be a non-empty string")
    regex = value.get("path_regex")
    if regex is not None:
        try:
            re.compile(regex)
        except re.error as error:
            raise SandboxError(400, f"match.path_regex is not a valid regular expression: {error}") from error
    recipient = value.get("recipient")
    if recipient is not None:
        recipient = _NOT_DIGITS.sub("", recipient)
        if not 7 <= len(recipient) <= 15:
            raise SandboxError(400, "match.recipient must be a phone number of 7 to 15 digits")
    return FaultMatch(
        method=value["method"].upper() if "method" in value else None,
        path=strip_version(value["path"]) if "path" in value else None,
        path_regex=regex,
        phone_number_id=value.get("phone_number_id"),
        recipient=recipient,
        type=value.get("type"),
        template=value.get("template"),
    )


def _error(value: Any, mode: Any) -> tuple[GraphErrorCode | None, str | None, int | None, Any]:
    if value is None:
        if mode is not None and mode not in MODES:
            raise SandboxError(400, 'mode must be "sync" or "async"')
        return None, None, None, mode
    if _is_int(value):
        value = {"code": value}
    if not isinstance(value, dict):
        raise SandboxError(400, 'error must be {"code": <Graph error code>, "details"?, "subcode"?, "mode"?}')
    unknown = set(value) - {"code", "details", "subcode", "mode"}
    if unknown:
        raise SandboxError(400, f"unknown error field(s): {', '.join(sorted(unknown))}")
    raw = value.get("code")
    if not _is_int(raw) or raw not in GraphErrorCode._value2member_map_:
        raise SandboxError(400, "error.code must be a Graph error code the sandbox knows (GET /_sandbox/errors)")
    details = value.get("details")
    if details is not None and not isinstance(details, str):
        raise SandboxError(400, "error.details must be a string")
    subcode = value.get("subcode")
    if subcode is not None and not _is_int(subcode):
        raise SandboxError(400, "error.subcode must be an integer")
    mode = value.get("mode", mode)
    if mode is not None and mode not in MODES:
        raise SandboxError(400, 'mode must be "sync" or "async"')
    return GraphErrorCode(raw), details, subcode, mode


def _latency(value: Any) -> Latency | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise SandboxError(400, "latency_ms must not be negative")
        return Latency("fixed", float(value))
    if not isinstance(value, dict):
        raise SandboxError(
            400, 'latency_ms must be milliseconds or {"distribution": "uniform"|"normal"|"exponential", ...}'
        )
    distribution = value.get("distribution", "fixed")
    if distribution not in DISTRIBUTIONS:
        raise SandboxError(400, f"latency_ms.distribution must be one of {', '.join(DISTRIBUTIONS)}")
    keys = {"fixed": ("value",), "uniform": ("min", "max"), "normal": ("mean", "stddev"), "exponential": ("mean",)}
    numbers = []
    for key in keys[distribution]:
        number = value.get(key)
        if not isinstance(number, int | float) or isinstance(number, bool) or number < 0:
            raise SandboxError(400, f"latency_ms.{key} must be a non-negative number of milliseconds")
        numbers.append(float(number))
    if distribution == "uniform" and numbers[0] > numbers[1]:
        raise SandboxError(400, "latency_ms.min must not exceed latency_ms.max")
    return Latency(distribution, *numbers)


def _headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise SandboxError(400, "headers must be an object of strings")
    for name, text in value.items():
        if not _HEADER_NAME.match(name) or any(c in text for c in "\r\n\0"):
            raise SandboxError(400, f"header {name!r} is not a valid HTTP header")
    return dict(value)


# --- firing -----------------------------------------------------------------------------------------------------


def sync_fault(tenant: Tenant, call: GraphCall) -> Fault | None:
    """The fault that answers `call` now (error, status, latency or drop), if one fires."""
    return tenant.faults.select(call, sync=True)


def latency_seconds(fault: Fault) -> float:
    return fault.latency.seconds(fault.rng) if fault.latency is not None else 0.0


def sync_error(fault: Fault, waba_id: str | None = None) -> GraphError | None:
    """The Graph error a sync fault answers with (None for a fault that only adds latency or headers). An injected
    4 or 80007 (on a WABA call, `waba_id`) reports its counter at 100% in the usage headers, as a real one does."""
    if fault.code is None and fault.http_status is None:
        return None
    code = fault.code
    if code is None:
        status = fault.http_status or 500
        code = STATUS_CODES.get(status, GraphErrorCode.API_UNKNOWN if status < 500 else GraphErrorCode.API_SERVICE)
    error = canonical_error(code, fault.details)
    if fault.subcode is not None:
        error.subcode = fault.subcode
    if fault.http_status is not None:
        error.http_status = fault.http_status
    error.headers = error.headers | exhausted_usage(code, waba_id) | fault.headers
    return error


def canonical_error(code: GraphErrorCode, details: str | None = None) -> GraphError:
    """`code` the way Meta writes it when it arises on its own (throttling, token errors, WhatsApp errors)."""
    if code in (GraphErrorCode.TOO_MANY_CALLS, GraphErrorCode.WABA_RATE_LIMIT) and details is None:
        return throttled(code)
    if code in _BARE_GRAPH_ERRORS:
        return GraphError(code, details, message=code.title) if details else GraphError(code, None, message=code.title)
    if code == GraphErrorCode.API_SERVICE:
        return GraphError(code, "" if details is None else details, is_transient=True)
    return GraphError(code, "" if details is None else details)


def accepted_failure(tenant: Tenant, call: GraphCall) -> AcceptedFailure | None:
    """The async fault that fails an accepted send, if one fires; its latency delays the failed status."""
    fault = tenant.faults.select(call, sync=False)
    if fault is None or fault.code is None:
        return None
    return AcceptedFailure(
        fault.code,
        fault.details if fault.details is not None else fault.code.description,
        latency_seconds(fault),
    )
