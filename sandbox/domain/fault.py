"""Injected faults: which Graph calls they catch, and how those calls then fail.

A fault matches calls by method, path (glob or regex), phone number, recipient, message type and template name,
and answers with a Graph error (synchronously, or accepted and then failed by webhook, the way Meta reports
that code), a bare HTTP status, added latency or a dropped connection; `times` and `probability` bound it.
Draws come from a generator the service seeds from the tenant seed and the fault id, so the same seed and the
same calls give the same failures. Path criteria arrive compiled to a linear-time matcher (RE2, where the fault
is accepted): a tenant's pattern is evaluated on every Graph call, and a backtracking engine would let one pattern
stall the event loop of every tenant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, get_args

from sandbox.errors import GraphErrorCode

Mode = Literal["sync", "async"]
MODES: tuple[Mode, ...] = get_args(Mode)
Distribution = Literal["fixed", "uniform", "normal", "exponential"]
DISTRIBUTIONS: tuple[Distribution, ...] = get_args(Distribution)
MAX_LATENCY_SECONDS = 120.0

# Codes Meta decides at delivery time: the send is accepted (200 + wamid) and a `failed` status webhook carries the
# error (meta-messaging.md §3 "Sync vs async"; 131048 "mostly async"). 130403 is not among them: Meta's block-users
# page says a message to a blocked user returns an error, and a real block answers it synchronously.
DELIVERY_TIME_CODES = frozenset(
    {
        GraphErrorCode.EXPERIMENT,
        GraphErrorCode.MESSAGE_UNDELIVERABLE,
        GraphErrorCode.BUSINESS_PAYMENT_ISSUE,
        GraphErrorCode.RE_ENGAGEMENT_MESSAGE,
        GraphErrorCode.SPAM_RATE_LIMIT_HIT,
        GraphErrorCode.HEALTHY_ECOSYSTEM,
        GraphErrorCode.MARKETING_OPT_OUT,
        GraphErrorCode.MEDIA_UPLOAD_ERROR,
    }
)


def default_mode(code: GraphErrorCode) -> Mode:
    """How Meta reports `code` on a send: `async` (failed status webhook) or `sync` (HTTP error)."""
    return "async" if code in DELIVERY_TIME_CODES else "sync"


class RandomSource(Protocol):
    """The part of `random.Random` a fault draws from (the domain never imports `random`)."""

    def random(self) -> float: ...

    def uniform(self, a: float, b: float) -> float: ...

    def gauss(self, mu: float, sigma: float) -> float: ...

    def expovariate(self, lambd: float) -> float: ...


class Matcher(Protocol):
    """The part of a compiled RE2 pattern a path criterion uses (the domain never imports the engine)."""

    def search(self, text: str) -> object | None: ...


@dataclass(frozen=True, slots=True)
class PathPattern:
    """A path criterion as the tenant gave it (`source`, a glob or a regex) and the matcher compiled from it."""

    source: str
    matcher: Matcher = field(compare=False)

    def matches(self, path: str) -> bool:
        return self.matcher.search(path) is not None


@dataclass(frozen=True, slots=True)
class Latency:
    """Added latency in milliseconds: a fixed value or a draw from a distribution."""

    distribution: Distribution
    a: float
    b: float = 0.0

    def seconds(self, rng: RandomSource) -> float:
        if self.distribution == "fixed":
            drawn = self.a
        elif self.distribution == "uniform":
            drawn = rng.uniform(self.a, self.b)
        elif self.distribution == "normal":
            drawn = rng.gauss(self.a, self.b)
        else:
            drawn = rng.expovariate(1.0 / self.a) if self.a > 0 else 0.0
        return min(MAX_LATENCY_SECONDS, max(0.0, drawn) / 1000.0)

    def snapshot(self) -> Any:
        if self.distribution == "fixed":
            return self.a
        if self.distribution == "uniform":
            return {"distribution": "uniform", "min": self.a, "max": self.b}
        if self.distribution == "normal":
            return {"distribution": "normal", "mean": self.a, "stddev": self.b}
        return {"distribution": "exponential", "mean": self.a}


@dataclass(frozen=True, slots=True)
class GraphCall:
    """What a fault can match on one Graph call. `path` has no version prefix (`/106540352242922/messages`);
    `recipients` are the candidate `wa_id`s of a send's `to` (its digits, and the `wa_id` Meta derives)."""

    method: str
    path: str
    phone_number_id: str | None = None
    recipients: tuple[str, ...] = ()
    message_type: str | None = None
    template: str | None = None
    is_send: bool = False


@dataclass(frozen=True, slots=True)
class FaultMatch:
    """Every given criterion must hold; no criteria match every Graph call of the tenant."""

    method: str | None = None
    path: PathPattern | None = None
    path_regex: PathPattern | None = None
    phone_number_id: str | None = None
    recipient: str | None = None
    type: str | None = None
    template: str | None = None

    def matches(self, call: GraphCall) -> bool:
        if self.method is not None and self.method != call.method:
            return False
        if self.path is not None and not self.path.matches(call.path):
            return False
        if self.path_regex is not None and not self.path_regex.matches(call.path):
            return False
        if self.phone_number_id is not None and self.phone_number_id != call.phone_number_id:
            return False
        if self.recipient is not None and self.recipient not in call.recipients:
            return False
        if self.type is not None and self.type != call.message_type:
            return False
        return self.template is None or self.template == call.template

    def snapshot(self) -> dict[str, str]:
        return {
            name: value
            for name, value in (
                ("method", self.method),
                ("path", self.path.source if self.path else None),
                ("path_regex", self.path_regex.source if self.path_regex else None),
                ("phone_number_id", self.phone_number_id),
                ("recipient", self.recipient),
                ("type", self.type),
                ("template", self.template),
            )
            if value is not None
        }


@dataclass(slots=True, eq=False)
class Fault:
    id: str
    match: FaultMatch
    rng: RandomSource
    created_at: datetime
    code: GraphErrorCode | None = None
    details: str | None = None
    subcode: int | None = None
    mode: Mode | None = None
    http_status: int | None = None
    latency: Latency | None = None
    drop: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = None
    probability: float = 1.0
    hits: int = 0

    @property
    def remaining(self) -> int | None:
        return None if self.times is None else max(0, self.times - self.hits)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def mode_for(self, call: GraphCall) -> Mode | None:
        """How the fault answers `call`; None when it does not apply: an async error (Meta accepts first and fails
        later) only applies to message sends."""
        if self.code is None:
            return "sync"
        mode = self.mode or default_mode(self.code)
        if mode == "async" and not call.is_send:
            return None
        return mode

    def snapshot(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": self.id, "match": self.match.snapshot()}
        if self.code is not None:
            doc["error"] = {"code": int(self.code), "mode": self.mode or default_mode(self.code)}
            if self.details is not None:
                doc["error"]["details"] = self.details
            if self.subcode is not None:
                doc["error"]["subcode"] = self.subcode
        for name, value in (
            ("http_status", self.http_status),
            ("latency_ms", self.latency.snapshot() if self.latency else None),
            ("headers", self.headers or None),
        ):
            if value is not None:
                doc[name] = value
        doc |= {
            "drop_connection": self.drop,
            "times": self.times,
            "remaining": self.remaining,
            "probability": self.probability,
            "hits": self.hits,
            "created_at": self.created_at,
        }
        return doc


@dataclass(slots=True)
class FaultBook:
    """A tenant's faults in creation order; the first live fault that matches and wins its draw fires."""

    faults: dict[str, Fault] = field(default_factory=dict)
    created: int = 0

    def next_id(self) -> str:
        self.created += 1
        return f"fault-{self.created}"

    def add(self, fault: Fault) -> Fault:
        self.faults[fault.id] = fault
        return fault

    def remove(self, fault_id: str) -> Fault | None:
        return self.faults.pop(fault_id, None)

    def clear(self) -> int:
        removed = len(self.faults)
        self.faults.clear()
        return removed

    def select(self, call: GraphCall, *, sync: bool) -> Fault | None:
        """The fault that fires on `call` among those answering in the given way (sync: during the call; else:
        when the send is accepted); a draw is made for every matching fault with `probability` below 1."""
        for fault in list(self.faults.values()):
            if fault.exhausted or not fault.match.matches(call):
                continue
            mode = fault.mode_for(call)
            if mode is None or (mode == "sync") != sync:
                continue
            if fault.probability < 1.0 and fault.rng.random() >= fault.probability:
                continue
            fault.hits += 1
            return fault
        return None
