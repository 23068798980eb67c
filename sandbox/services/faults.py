"""Fault injection (control plane `/_sandbox/tenants/{tenant}/faults`): creating, listing and firing faults.

Sync faults fire in the Graph router before the call is handled; async faults fire when a send is accepted,
turning it into a `failed` status webhook. Each fault draws from its own generator seeded from the tenant seed
and the fault id, so a replay with the same seed and calls fails the same way.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import re2

from sandbox.context import Tenant
from sandbox.domain.commands import AddFault
from sandbox.domain.fault import Fault, GraphCall, PathPattern
from sandbox.domain.phone_number import PhoneNumber
from sandbox.errors import GraphError, GraphErrorCode
from sandbox.services.limits import exhausted_usage, throttled

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
_NOT_DIGITS = re.compile(r"[^0-9]")
# The longest path criterion a fault takes; RE2 also bounds the compiled program (`max_mem`, repeats ≤ 1000).
PATTERN_LENGTH = 1024
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


@dataclass(frozen=True, slots=True)
class AcceptedFailure:
    """An async fault's effect on an accepted send: the failed status, after `delay` seconds of tenant time."""

    code: GraphErrorCode
    details: str
    delay: float


def strip_version(path: str) -> str:
    stripped = _VERSION_PREFIX.sub("", path)
    return stripped if stripped.startswith(("/", "*")) else "/" + stripped


def compile_regex(regex: str) -> PathPattern:
    """`regex` compiled by RE2, which matches in time linear in the path: no pattern can backtrack. ValueError
    says why RE2 refuses it (bad syntax, or a feature RE2 leaves out: backreferences, lookaround)."""
    if len(regex) > PATTERN_LENGTH:
        raise ValueError(f"longer than {PATTERN_LENGTH} characters")
    try:
        return PathPattern(regex, re2.compile(regex, _RE2_OPTIONS))
    except re2.error as error:
        reason = error.args[0] if error.args else error
        raise ValueError(reason.decode() if isinstance(reason, bytes) else str(reason)) from None


def compile_glob(glob: str) -> PathPattern:
    """A glob as `fnmatch.fnmatchcase` reads it (`*` crosses `/`, `?`, `[...]`, `[!...]`), compiled by RE2."""
    if len(glob) > PATTERN_LENGTH:
        raise ValueError(f"longer than {PATTERN_LENGTH} characters")
    parts, i = [], 0
    while i < len(glob):
        char = glob[i]
        i += 1
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        elif char == "[":
            end = i + 1 if glob[i : i + 1] == "!" else i
            end = glob.find("]", end + 1 if glob[end : end + 1] == "]" else end)
            if end < 0:
                parts.append(re2.escape(char))
                continue
            members = glob[i:end].replace("\\", "\\\\").replace("[", "\\[")
            i = end + 1
            if members.startswith("!"):
                members = "^" + members[1:]
            elif members.startswith("^"):
                members = "\\" + members
            parts.append(f"[{members}]")
        else:
            parts.append(re2.escape(char))
    pattern = compile_regex(r"\A(?s:" + "".join(parts) + r")\z")
    return PathPattern(glob, pattern.matcher)


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


def create_fault(tenant: Tenant, command: AddFault) -> Fault:
    """Add a fault with the next id, drawing from its own generator (tenant seed and fault id)."""
    fault_id = tenant.faults.next_id()
    fault = Fault(
        id=fault_id,
        match=command.match,
        rng=random.Random(f"{tenant.seed}:fault:{fault_id}"),
        created_at=tenant.clock.now(),
        code=command.code,
        details=command.details,
        subcode=command.subcode,
        mode=command.mode,
        http_status=command.http_status,
        latency=command.latency,
        drop=command.drop,
        headers=dict(command.headers),
        times=command.times,
        probability=command.probability,
    )
    return tenant.faults.add(fault)


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
