"""Scheduled decisions: "after this latency, fire this trigger and publish its events", on the tenant clock.

Two levels share one step (`step`: fire a lifecycle trigger at the tenant's now and publish what the model raised):
- `after` schedules one step and returns the clock handle; message progression uses it, thousands per second, so
  it records nothing.
- `schedule` records a `PendingDecision` of a review kind (one per kind and target; a new one replaces and cancels
  the old), so the state and the control plane show what is pending and when it falls due. When it falls due, or
  when `force` decides it now (`POST /_sandbox/tenants/{tenant}/reviews`), the kind's `Reviewer` applies it.
  `cancel` drops it, for instance when the object under review is edited or deleted.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Protocol

from sandbox.clock import ScheduledCall
from sandbox.context import Tenant
from sandbox.domain.commands import ForceDecision
from sandbox.domain.decision import PendingDecision
from sandbox.domain.errors import Invalid, NotFound
from sandbox.domain.events import Event
from sandbox.domain.lifecycle import InvalidTransition, Lifecycle


class EventSource(Protocol):
    """A model whose transitions raise domain events (`pending_events`), drained after each operation."""

    def drain_events(self) -> list[Event]: ...


def step(tenant: Tenant, lifecycle: Lifecycle, model: EventSource, trigger: str, *args: Any) -> bool:
    """Fire `trigger` on `model` now (callbacks get the tenant's now first, then `args`) and publish its events;
    False, with nothing changed, when the move is no longer legal (a test moved the object by hand)."""
    try:
        lifecycle.fire(model, trigger, tenant.clock.now(), *args)
    except InvalidTransition:
        return False
    tenant.publish(model.drain_events())
    return True


def after(
    tenant: Tenant, seconds: float, lifecycle: Lifecycle, model: EventSource, trigger: str, *args: Any
) -> ScheduledCall:
    """`step` in `seconds` of tenant time; the handle cancels it."""
    return tenant.clock.call_later(seconds, partial(step, tenant, lifecycle, model, trigger, *args))


@dataclass(frozen=True, slots=True)
class Reviewer:
    """How one review kind is decided: the decisions and reasons it may end with (None: any reason text), and
    `apply`, the lifecycle service that carries a decision out (fires its triggers, publishes its webhooks)."""

    kind: str
    decisions: frozenset[str]
    reasons: frozenset[str] | None
    apply: Callable[[Tenant, PendingDecision], None]


_REVIEWERS: dict[str, Reviewer] = {}


def reviewer(reviewer: Reviewer) -> Reviewer:
    """Register a review kind; each lifecycle service calls this once, at import."""
    _REVIEWERS[reviewer.kind] = reviewer
    return reviewer


def reviewers() -> dict[str, Reviewer]:
    """Every registered review kind, after importing each module of `sandbox.services`."""
    package = importlib.import_module("sandbox.services")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"sandbox.services.{module.name}")
    return dict(_REVIEWERS)


def schedule(
    tenant: Tenant, kind: str, target: str, seconds: float, decision: str, reason: str | None = None
) -> PendingDecision:
    """Decide review `kind` of `target` with `decision` in `seconds` of tenant time, replacing any pending one."""
    found = _reviewer(kind)
    _check(found, decision, reason)
    cancel(tenant, kind, target)
    now = tenant.clock.now()
    pending = PendingDecision(kind, target, decision, reason, now, now + timedelta(seconds=seconds))
    tenant.store.decisions[(kind, target)] = pending
    pending.handle = tenant.clock.call_at(pending.due_at, partial(_decide, tenant, pending))
    return pending


def cancel(tenant: Tenant, kind: str, target: str) -> PendingDecision | None:
    pending = tenant.store.decisions.pop((kind, target), None)
    if pending is not None and pending.handle is not None:
        pending.handle.cancel()
    return pending


def pending_decisions(tenant: Tenant) -> list[PendingDecision]:
    """What is pending, soonest first."""
    return sorted(tenant.store.decisions.values(), key=lambda pending: (pending.due_at, pending.kind, pending.target))


def force(tenant: Tenant, command: ForceDecision) -> PendingDecision:
    """Decide a pending review now, with the command's decision and reason, and let what follows from it run."""
    found = _reviewer(command.kind)
    pending = tenant.store.decisions.get((command.kind, command.target))
    if pending is None:
        raise NotFound(f"no pending {command.kind} review of {command.target!r} (GET .../reviews lists them)")
    decision = resolve(found, command.decision)
    _check(found, decision, command.reason)
    cancel(tenant, command.kind, command.target)
    pending.decision, pending.reason, pending.forced = decision, command.reason, True
    found.apply(tenant, pending)
    tenant.clock.run_due()
    return pending


def _decide(tenant: Tenant, pending: PendingDecision) -> None:
    if tenant.store.decisions.get((pending.kind, pending.target)) is not pending:
        return
    del tenant.store.decisions[(pending.kind, pending.target)]
    _reviewer(pending.kind).apply(tenant, pending)


def _reviewer(kind: str) -> Reviewer:
    found = _REVIEWERS.get(kind) or reviewers().get(kind)
    if found is None:
        known = ", ".join(sorted(_REVIEWERS)) or "none yet"
        raise Invalid(f"kind {kind!r} has no reviews in this sandbox; known: {known}")
    return found


# Meta's outcome words and the lifecycle triggers they fire: a reviewer may declare either, and the control plane
# takes both (`"decision": "APPROVED"`, as control-plane.md writes it, or `"approve"`).
_SYNONYMS = {
    "APPROVED": "approve",
    "REJECTED": "reject",
    "DEFERRED": "defer",
    "FAILED": "fail",
    "NEED_MORE_INFO": "need_more_info",
}
_SYNONYMS |= {trigger: word for word, trigger in list(_SYNONYMS.items())}


def resolve(found: Reviewer, decision: str) -> str:
    """The reviewer's own spelling of `decision` (Meta's outcome word or the trigger), or `decision` unchanged."""
    if decision in found.decisions:
        return decision
    for spelling in (decision.upper(), decision.lower()):
        if spelling in found.decisions:
            return spelling
        synonym = _SYNONYMS.get(spelling)
        if synonym is not None and synonym in found.decisions:
            return synonym
    return decision


def _check(found: Reviewer, decision: str, reason: str | None) -> None:
    if decision not in found.decisions:
        raise Invalid(f"a {found.kind} review decides {', '.join(sorted(found.decisions))}, not {decision!r}")
    if reason is not None and found.reasons is not None and reason not in found.reasons:
        raise Invalid(f"reason must be one of {', '.join(sorted(found.reasons))} for a {found.kind} review")
