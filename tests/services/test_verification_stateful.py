"""Business verification and the WABA's review under random interleavings, through the control plane and the Graph
API: submissions with random documents, forced decisions of every outcome, appeals, moves by hand and clock jumps
that let scheduled decisions fire. The status stays in Meta's enum, a rejected business resubmits only 35 days
after its previous submission (SEED-VERIFY-3), `account_mode` follows the verification, every WABA decision sends
one `account_review_update`, the provider's connection status is the one the machines imply (SEED-VERIFY-4), a
refused call changes nothing, and nothing answers 5xx."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.clock import to_rfc3339
from sandbox.context import Sandbox
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import RecordingTransport, check_sandbox_error
from tests.conftest import CALLBACK, START

# Graph's `verification_status` enum and `account_review_status`, as Meta writes them (meta-lifecycle.md §3.1, §3.3).
VERIFICATION_STATUSES = {
    "not_verified", "pending_submission", "pending", "pending_need_more_info", "verified", "rejected", "failed",
    "expired", "ineligible", "revoked",
}  # fmt: skip
REVIEW_STATUSES = {"PENDING", "APPROVED", "REJECTED"}
KEYS = ("identity_document", "business_email", "phone_number")
VALUES: dict[str, list[tuple[Any, bool]]] = {
    "identity_document": [("passport-4711.pdf", True), ("Handelsregister HRB 1234", True), ("   ", False), (7, False)],
    "business_email": [("owner@acme.example", True), ("a.b@mail.example.co", True), ("owner-at-acme", False),
                       ("a@b", False), ("x" * 60 + "@" + "y" * 200 + ".example", False)],
    "phone_number": [("+1 555 0100", True), ("+14155550100", True), ("12345", False), ("call me", False)],
}  # fmt: skip
RESUBMIT_AFTER = timedelta(days=35)
KINDS = ("business_verification", "waba_review", "waba_appeal")
# What each kind decides, in Meta's words (the trigger names are synonyms the control plane also takes).
OUTCOMES = {
    "business_verification": {"APPROVED": "verified", "REJECTED": "rejected", "NEED_MORE_INFO":
                              "pending_need_more_info", "FAILED": "failed"},
    "waba_review": {"APPROVED": "APPROVED", "REJECTED": "REJECTED", "DEFERRED": "PENDING"},
    "waba_appeal": {"APPROVED": "APPROVED", "REJECTED": "REJECTED"},
}  # fmt: skip
DECISIONS = ["APPROVED", "REJECTED", "NEED_MORE_INFO", "FAILED", "DEFERRED", "approve", "reject", "NOPE"]
REASONS = [None, "MALFORMED_DOCUMENTS", "ADDRESS_NOT_MATCHING", "NONE", "policy violation"]
VERIFICATION_REASONS = {
    "ADDRESS_NOT_MATCHING", "BUSINESS_NOT_ELIGIBLE", "LEGAL_NAME_NOT_MATCHING", "LEGAL_NAME_NOT_FOUND_IN_DOCUMENTS",
    "MALFORMED_DOCUMENTS", "WEBSITE_NOT_MATCHING", "NONE",
}  # fmt: skip
# The moves by hand and the states each leaves from (meta-lifecycle.md §3.1's model).
MOVES = {
    "start": {"not_verified"},
    "expire": {"verified"},
    "revoke": {"verified"},
    "make_ineligible": VERIFICATION_STATUSES - {"ineligible", "revoked"},
}
SUBMITTABLE = {"not_verified", "pending_submission", "rejected", "failed", "expired", "pending_need_more_info"}
LAPSED = {"failed", "ineligible", "revoked", "expired"}


def _canonical(decision: str) -> str:
    return {"approve": "APPROVED", "reject": "REJECTED"}.get(decision, decision)


class VerificationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        sandbox = Sandbox(Settings(seed=13))
        self.tenant = create_tenant(
            sandbox,
            CreateTenant(name="v", profile="trial", clock=ConfigureClock(mode="frozen"), webhook_url=CALLBACK),
            start=START,
        )
        self.client = TestClient(create_app(sandbox, transport=RecordingTransport())).__enter__()
        self.base = f"/_sandbox/tenants/{self.tenant.id}"
        self.auth = {"Authorization": f"Bearer {self.tenant.credentials.access_token}"}
        self.business_id, self.waba_id = self.tenant.business_id, self.tenant.waba_id
        self.review_decisions = 0  # WABA review and appeal decisions applied, forced or fallen due

    def teardown(self) -> None:
        self.client.__exit__(None, None, None)

    # -- reading ----------------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.client.request(method, path, json=body, headers=self.auth if path.startswith("/v") else None)
        assert answer.status_code < 500, (method, path, body, answer.status_code, answer.text)
        return answer

    def _verification(self) -> dict[str, Any]:
        return self._call("GET", f"{self.base}/business/verification").json()

    def _reviews(self) -> list[dict[str, Any]]:
        return self._call("GET", f"{self.base}/reviews").json()["data"]

    def _pending(self, kind: str, target: str) -> dict[str, Any] | None:
        return next((r for r in self._reviews() if (r["kind"], r["target"]) == (kind, target)), None)

    @property
    def now(self) -> datetime:
        return self.tenant.clock.now()

    def _status(self) -> str:
        return self._verification()["status"]

    def _review_status(self) -> str:
        waba = self.tenant.store.wabas.get(self.waba_id)
        assert waba is not None
        return waba.account_review_status

    def _review_webhooks(self) -> int:
        return sum(d.field == "account_review_update" for d in self.tenant.outbox.log(self.tenant.id))

    def _world(self) -> tuple[object, ...]:
        """Everything a refused call must leave as it was."""
        phones = [(p.id, p.account_mode) for p in self.tenant.store.phone_numbers]
        wabas = [(w.id, w.account_review_status, w.account_mode) for w in self.tenant.store.wabas]
        return (self._verification(), self._reviews(), phones, wabas, len(self.tenant.outbox.log(self.tenant.id)))

    def _refused(self, answer: Any, status: int, before: tuple[object, ...], *words: str) -> None:
        error = check_sandbox_error(answer, status)
        for word in words:
            assert word in error["message"], (word, error)
        assert self._world() == before

    # -- rules --------------------------------------------------------------------------------------------------

    @rule(
        keys=st.one_of(st.just(set(KEYS)), st.sets(st.sampled_from(KEYS))),
        picks=st.one_of(
            st.tuples(*(st.sampled_from([v for v in VALUES[key] if v[1]]) for key in KEYS)),
            st.tuples(*(st.sampled_from(VALUES[key]) for key in KEYS)),
        ),
    )
    def submit(self, keys: set[str], picks: tuple[tuple[Any, bool], ...]) -> None:
        documents = {key: value for key, (value, _) in zip(KEYS, picks, strict=True) if key in keys}
        valid = all(ok for key, (_, ok) in zip(KEYS, picks, strict=True) if key in keys)
        before, doc = self._world(), self._verification()
        status, last = doc["status"], doc["submitted_at"]
        answer = self._call("POST", f"{self.base}/business/verification", {"documents": documents})
        missing = [key for key in KEYS if key not in keys]
        if missing:
            return self._refused(answer, 400, before, *missing)
        if not valid:
            return self._refused(answer, 400, before)
        if status not in SUBMITTABLE:
            return self._refused(answer, 409, before)
        if status == "rejected":
            opens = datetime.fromisoformat(last.replace("Z", "+00:00")) + RESUBMIT_AFTER
            if self.now < opens:
                return self._refused(answer, 409, before, opens.date().isoformat())
        assert answer.status_code == 202, answer.text
        assert answer.json()["status"] == "pending"
        assert answer.json()["submitted_at"] == to_rfc3339(self.now)
        assert self._pending("business_verification", self.business_id) is not None

    @rule(
        kind=st.sampled_from(KINDS),
        decision=st.one_of(st.sampled_from(["APPROVED", "REJECTED"]), st.sampled_from(DECISIONS)),
        reason=st.sampled_from(REASONS),
    )
    def force(self, kind: str, decision: str, reason: str | None) -> None:
        target = self.business_id if kind == "business_verification" else self.waba_id
        before, pending = self._world(), self._pending(kind, target)
        body = {"kind": kind, "target": target, "decision": decision} | ({"reason": reason} if reason else {})
        answer = self._call("POST", f"{self.base}/reviews", body)
        word = _canonical(decision)
        if pending is None:
            return self._refused(answer, 404, before, kind)
        if word not in OUTCOMES[kind]:
            return self._refused(answer, 400, before)
        if kind == "business_verification" and reason is not None and reason not in VERIFICATION_REASONS:
            return self._refused(answer, 400, before, "reason")
        assert answer.status_code == 200, answer.text
        if kind == "business_verification":
            assert self._status() == OUTCOMES[kind][word]
        else:
            self.review_decisions += 1
            assert self._review_status() == OUTCOMES[kind][word]
            if kind == "waba_review" and word == "DEFERRED":
                assert self._pending("waba_review", target) is not None, "a deferred WABA is reviewed again"

    @precondition(lambda self: bool(self.tenant.store.decisions))
    @rule(data=st.data())
    def decide_what_is_pending(self, data: st.DataObject) -> None:
        """A valid decision of a review under way (the `force` rule mostly meets nothing pending)."""
        pending = sorted(k for k in self.tenant.store.decisions if k[0] in KINDS)
        if pending:
            kind, _ = data.draw(st.sampled_from(pending))
            word = data.draw(st.sampled_from(sorted(OUTCOMES[kind])))
            reason = data.draw(st.sampled_from(["MALFORMED_DOCUMENTS", None])) if kind == KINDS[0] else None
            self.force(kind, word, reason)

    @rule(waba_id=st.sampled_from(["own", "999000111"]))
    def appeal(self, waba_id: str) -> None:
        target = self.waba_id if waba_id == "own" else waba_id
        before = self._world()
        pending = self._pending("waba_appeal", target)
        answer = self._call("POST", f"{self.base}/wabas/{target}/appeal")
        if target != self.waba_id:
            return self._refused(answer, 404, before, target)
        if self._review_status() != "REJECTED" or pending is not None:
            return self._refused(answer, 409, before)
        assert answer.status_code == 202, answer.text
        assert self._pending("waba_appeal", target) is not None

    # make_ineligible is final: rare, so that most runs get further.
    @rule(trigger=st.sampled_from(["start", "expire", "revoke"] * 3 + ["make_ineligible", "submit", "approve"]))
    def move(self, trigger: str) -> None:
        before, status = self._world(), self._status()
        answer = self._call("POST", f"{self.base}/business/verification/{trigger}")
        if trigger not in MOVES:
            return self._refused(answer, 400, before, trigger)
        if status not in MOVES[trigger]:
            return self._refused(answer, 409, before)
        assert answer.status_code == 200, answer.text
        after = self._status()
        assert after != "pending" or status == "pending"
        if after != "pending":
            assert self._pending("business_verification", self.business_id) is None

    @rule(seconds=st.one_of(st.integers(1, 3600), st.integers(3600, 60 * 86400), st.sampled_from([35 * 86400])))
    def advance(self, seconds: int) -> None:
        """Jump the clock, stopping at each due decision so the WABA decisions that fire are counted."""
        target = self.now + timedelta(seconds=seconds)
        while True:
            due = sorted((p.due_at, p.kind) for p in self.tenant.store.decisions.values() if p.due_at <= target)
            if not due:
                break
            # The control plane reads times to the millisecond: the next one at or after the first due time.
            at = due[0][0] + timedelta(microseconds=-due[0][0].microsecond % 1000)
            self.review_decisions += sum(kind in KINDS[1:] for d, kind in due if d <= at)
            self._call("POST", f"{self.base}/clock/advance", {"to": to_rfc3339(at)}).raise_for_status()
            assert all(p.due_at > at for p in self.tenant.store.decisions.values())
        self._call("POST", f"{self.base}/clock/advance", {"to": to_rfc3339(target)}).raise_for_status()

    # -- invariants ---------------------------------------------------------------------------------------------

    @invariant()
    def statuses_are_meta_s(self) -> None:
        status = self._status()
        assert status in VERIFICATION_STATUSES
        assert self._review_status() in REVIEW_STATUSES
        business = self._call("GET", f"/v23.0/{self.business_id}?fields=verification_status")
        assert business.json()["verification_status"] == status, business.text
        waba = self._call("GET", f"/v23.0/{self.waba_id}?fields=business_verification_status,account_review_status")
        assert waba.json()["business_verification_status"] == status, waba.text
        assert waba.json()["account_review_status"] == self._review_status()

    @invariant()
    def one_pending_review_per_kind_and_target(self) -> None:
        keys = [(r["kind"], r["target"]) for r in self._reviews()]
        assert len(keys) == len(set(keys)), keys
        status = self._status()
        assert (("business_verification", self.business_id) in keys) == (status == "pending"), (status, keys)

    @invariant()
    def live_iff_verified(self) -> None:
        mode = "LIVE" if self._status() == "verified" else "SANDBOX"
        assert {w.account_mode for w in self.tenant.store.wabas} == {mode}
        assert {p.account_mode for p in self.tenant.store.phone_numbers} == {mode}

    @invariant()
    def one_webhook_per_waba_decision(self) -> None:
        assert self._review_webhooks() == self.review_decisions

    @invariant()
    def connection_status_is_derived(self) -> None:
        status, review = self._status(), self._review_status()
        numbers = list(self.tenant.store.phone_numbers)
        if status == "rejected" or review == "REJECTED":
            expected = "waba_rejected"
        elif status in LAPSED or any(p.registration_failed for p in numbers):
            expected = "process_failed"
        elif status == "verified" and any(p.registered for p in numbers):
            expected = "connected"
        else:
            expected = "unverified_trial"
        state = self._call("GET", f"{self.base}/state").json()
        assert state["provider"]["connection_status"] == expected, (status, review, state["provider"])


def test_verification_and_waba_review() -> None:
    run_state_machine_as_test(
        VerificationMachine, settings=settings(settings.default, max_examples=25, stateful_step_count=30)
    )
