"""Scheduled decisions (sandbox/services/decisions.py) with a reviewer declared here: a review is pending until it
falls due on the tenant clock, is forced through `POST /_sandbox/tenants/{tenant}/reviews`, or is cancelled, and it
is decided exactly once. Negative cases answer the SandboxError envelope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from starlette.testclient import TestClient

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant, ForceDecision
from sandbox.domain.decision import PendingDecision
from sandbox.domain.errors import Invalid, NotFound
from sandbox.domain.events import AccountReviewDecided, Event
from sandbox.domain.lifecycle import Lifecycle
from sandbox.services import decisions
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import check_sandbox_error

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
# A kind no lifecycle decides yet, so the widget reviewer stands in without displacing a real one.
KIND = "display_name"


class Review(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@dataclass(eq=False)
class Widget:
    """Something under review that raises the WABA review's webhook when decided."""

    id: str
    waba_id: str
    status: str = Review.PENDING.value
    decided: list[tuple[str, str | None, datetime]] = field(default_factory=list)
    pending_events: list[Event] = field(default_factory=list)

    def record(self, at: datetime, reason: str | None) -> None:
        self.decided.append((self.status, reason, at))
        self.pending_events.append(AccountReviewDecided(at, waba_id=self.waba_id, decision=self.status))

    def drain_events(self) -> list[Event]:
        events, self.pending_events = self.pending_events, []
        return events


WIDGET = Lifecycle(
    "widget",
    "status",
    Review,
    [
        {"trigger": "approve", "source": Review.PENDING, "dest": Review.APPROVED, "after": "record"},
        {"trigger": "reject", "source": Review.PENDING, "dest": Review.REJECTED, "after": "record"},
        {"trigger": "resubmit", "source": Review.REJECTED, "dest": Review.PENDING},
    ],
)
WIDGETS: dict[str, Widget] = {}


def _apply(tenant: Tenant, pending: PendingDecision) -> None:
    trigger = "approve" if pending.decision == "APPROVED" else "reject"
    decisions.step(tenant, WIDGET, WIDGETS[pending.target], trigger, pending.reason)


REVIEWER = decisions.Reviewer(KIND, frozenset({"APPROVED", "REJECTED"}), frozenset({"POLICY", "SPAM"}), _apply)


@pytest.fixture(autouse=True)
def _reviewer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(decisions._REVIEWERS, KIND, REVIEWER)
    WIDGETS.clear()
    yield
    WIDGETS.clear()


def _widget(tenant: Tenant, widget_id: str = "w1") -> Widget:
    widget = WIDGETS[widget_id] = Widget(widget_id, tenant.waba_id)
    return widget


def _review_webhooks(tenant: Tenant) -> list[str]:
    return [d.summary for d in tenant.outbox.log(tenant.id) if d.field == "account_review_update"]


def test_a_review_is_pending_until_it_falls_due(tenant: Tenant) -> None:
    widget = _widget(tenant)
    pending = decisions.schedule(tenant, KIND, widget.id, 3600, "APPROVED")
    assert [p.document() for p in decisions.pending_decisions(tenant)] == [
        {
            "kind": KIND,
            "target": "w1",
            "submitted_at": START,
            "due_at": START + timedelta(hours=1),
            "decision": "APPROVED",
            "reason": None,
        }
    ]
    tenant.clock.advance(3599)
    assert widget.status == "PENDING" and decisions.pending_decisions(tenant) == [pending]
    tenant.clock.advance(1)
    assert widget.decided == [("APPROVED", None, START + timedelta(hours=1))]
    assert decisions.pending_decisions(tenant) == []
    assert _review_webhooks(tenant) == ["account_review_update"]


def test_a_new_submission_replaces_the_pending_one(tenant: Tenant) -> None:
    widget = _widget(tenant)
    decisions.schedule(tenant, KIND, widget.id, 60, "REJECTED", "SPAM")
    decisions.schedule(tenant, KIND, widget.id, 120, "APPROVED")
    tenant.clock.advance(3600)
    assert [status for status, _, _ in widget.decided] == ["APPROVED"]


def test_a_cancelled_review_never_decides(tenant: Tenant) -> None:
    widget = _widget(tenant)
    decisions.schedule(tenant, KIND, widget.id, 60, "APPROVED")
    assert decisions.cancel(tenant, KIND, widget.id) is not None
    tenant.clock.advance(3600)
    assert widget.decided == [] and decisions.pending_decisions(tenant) == []
    assert decisions.cancel(tenant, KIND, widget.id) is None


def test_forcing_decides_now_with_the_forced_outcome_and_only_once(tenant: Tenant) -> None:
    widget = _widget(tenant)
    decisions.schedule(tenant, KIND, widget.id, 60, "APPROVED")
    decisions.force(tenant, ForceDecision(KIND, widget.id, "REJECTED", "POLICY"))
    assert widget.decided == [("REJECTED", "POLICY", START)]
    tenant.clock.advance(3600)
    assert len(widget.decided) == 1
    with pytest.raises(NotFound):
        decisions.force(tenant, ForceDecision(KIND, widget.id, "APPROVED"))


def test_a_forced_decision_may_be_meta_s_word_or_the_trigger(tenant: Tenant) -> None:
    """control-plane.md writes `"decision": "APPROVED"`; a reviewer whose decisions are triggers takes it too."""
    widget = _widget(tenant)
    decisions.schedule(tenant, KIND, widget.id, 60, "APPROVED")
    decided = decisions.force(tenant, ForceDecision(KIND, widget.id, "reject", "POLICY"))
    assert decided.decision == "REJECTED" and widget.decided == [("REJECTED", "POLICY", START)]
    trigger_named = decisions.Reviewer(KIND, frozenset({"approve", "defer"}), None, _apply)
    assert decisions.resolve(trigger_named, "APPROVED") == "approve"
    assert decisions.resolve(trigger_named, "DEFERRED") == "defer"
    assert decisions.resolve(trigger_named, "maybe") == "maybe"


def test_scheduling_checks_the_kind_and_its_decisions(tenant: Tenant) -> None:
    with pytest.raises(Invalid, match="has no reviews"):
        decisions.schedule(tenant, "no_such_kind", "t1", 60, "APPROVED")
    with pytest.raises(Invalid, match="decides APPROVED, REJECTED"):
        decisions.schedule(tenant, KIND, "w1", 60, "MAYBE")
    assert decisions.pending_decisions(tenant) == []


def test_reviews_over_the_control_plane(client: TestClient, tenant: Tenant) -> None:
    widget = _widget(tenant)
    decisions.schedule(tenant, KIND, widget.id, 86400, "APPROVED")
    path = f"/_sandbox/tenants/{tenant.id}/reviews"
    listed = client.get(path).json()
    assert KIND in listed["kinds"]
    assert listed["data"][0] | {} == {
        "kind": KIND,
        "target": "w1",
        "submitted_at": "2026-01-05T09:00:00Z",
        "due_at": "2026-01-06T09:00:00Z",
        "decision": "APPROVED",
        "reason": None,
    }
    state = client.get(f"/_sandbox/tenants/{tenant.id}/state").json()
    assert state["reviews"] == listed["data"]
    answer = client.post(path, json={"kind": KIND, "target": "w1", "decision": "REJECTED", "reason": "SPAM"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["decision"] == "REJECTED" and answer.json()["forced"] is True
    assert widget.status == "REJECTED" and _review_webhooks(tenant) == ["account_review_update"]
    assert client.get(path).json()["data"] == []


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"kind": "no_such_kind", "target": "w1", "decision": "APPROVED"}, 400, "kind must be one of"),
        ({"kind": "template", "target": "w1", "decision": "APPROVED"}, 404, "no pending template review"),
        ({"kind": KIND, "decision": "APPROVED"}, 400, "target is required"),
        ({"kind": KIND, "target": "w1"}, 400, "decision is required"),
        ({"kind": KIND, "target": "w1", "decision": "MAYBE"}, 400, "decides APPROVED, REJECTED"),
        ({"kind": KIND, "target": "w1", "decision": "REJECTED", "reason": "BORED"}, 400, "reason must be one of"),
        ({"kind": KIND, "target": "w1", "decision": "APPROVED", "extra": 1}, 400, "unknown field"),
        ({"kind": KIND, "target": "x" * 300, "decision": "APPROVED"}, 400, "target must be"),
        ({"kind": KIND, "target": "w2", "decision": "APPROVED"}, 404, "no pending display_name review"),
    ],
)
def test_forcing_a_review_refuses(
    client: TestClient, tenant: Tenant, body: dict[str, Any], status: int, words: str
) -> None:
    widget = _widget(tenant)
    decisions.schedule(tenant, KIND, widget.id, 60, "APPROVED")
    error = check_sandbox_error(client.post(f"/_sandbox/tenants/{tenant.id}/reviews", json=body), status)
    assert words in error["message"]
    assert widget.status == "PENDING" and len(decisions.pending_decisions(tenant)) == 1, "nothing half-applied"


def test_an_unknown_tenant_has_no_reviews(client: TestClient) -> None:
    check_sandbox_error(client.get("/_sandbox/tenants/nobody/reviews"), 404)


class DecisionMachine(RuleBasedStateMachine):
    """Random schedules, replacements, cancellations, forced decisions and clock moves: every submission is decided
    at most once, by the last decision given for it, at its due time or when forced; what is pending is exactly what
    the model expects."""

    def __init__(self) -> None:
        super().__init__()
        decisions._REVIEWERS[KIND] = REVIEWER
        sandbox = Sandbox(Settings(seed=3))
        self.tenant = create_tenant(sandbox, CreateTenant(name="d", clock=ConfigureClock(mode="frozen")), start=START)
        self.expected: dict[str, tuple[str, datetime]] = {}
        self.decided: dict[str, list[str]] = {}
        self.widgets: dict[str, Widget] = {}

    def _fresh(self, target: str) -> Widget:
        widget = Widget(target, self.tenant.waba_id)
        WIDGETS[target] = self.widgets[target] = widget
        return widget

    @rule(
        name=st.sampled_from(["a", "b", "c"]),
        seconds=st.integers(0, 7200),
        decision=st.sampled_from(["APPROVED", "REJECTED"]),
    )
    def submit(self, name: str, seconds: int, decision: str) -> None:
        self._fresh(name)
        decisions.schedule(self.tenant, KIND, name, seconds, decision)
        self.expected[name] = (decision, self.tenant.clock.now() + timedelta(seconds=seconds))

    @rule(name=st.sampled_from(["a", "b", "c"]))
    def cancel(self, name: str) -> None:
        found = decisions.cancel(self.tenant, KIND, name)
        assert (found is not None) == (name in self.expected)
        self.expected.pop(name, None)

    @rule(name=st.sampled_from(["a", "b", "c"]), decision=st.sampled_from(["APPROVED", "REJECTED"]))
    def force(self, name: str, decision: str) -> None:
        if name not in self.expected:
            with pytest.raises(NotFound):
                decisions.force(self.tenant, ForceDecision(KIND, name, decision))
            return
        decisions.force(self.tenant, ForceDecision(KIND, name, decision))
        del self.expected[name]
        assert [status for status, _, _ in self.widgets[name].decided] == [decision]
        self._due_were_decided()  # forcing lets what is already due run too

    @rule(seconds=st.integers(0, 5000))
    def advance(self, seconds: int) -> None:
        self.tenant.clock.advance(seconds)
        self._due_were_decided()

    def _due_were_decided(self) -> None:
        now = self.tenant.clock.now()
        for target, (decision, due) in list(self.expected.items()):
            if due <= now:
                assert [status for status, _, at in self.widgets[target].decided] == [decision]
                assert self.widgets[target].decided[0][2] == due
                del self.expected[target]

    @invariant()
    def pending_is_what_the_model_expects(self) -> None:
        pending = {p.target: (p.decision, p.due_at) for p in decisions.pending_decisions(self.tenant)}
        assert pending == self.expected
        for target in pending:
            assert self.widgets[target].decided == []

    def teardown(self) -> None:
        decisions._REVIEWERS.pop(KIND, None)
        WIDGETS.clear()


TestDecisionMachine = DecisionMachine.TestCase
