"""The trial's counters under random interleavings of customers writing, templates, replies, clock jumps and
verification toggles: a limit is never exceeded, a refused message leaves no trace, an accepted one is sent."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from sandbox.context import Sandbox
from sandbox.domain.commands import ConfigureClock, CreateTenant, ReceiveMessage, SendMessage
from sandbox.errors import GraphError
from sandbox.services import messaging
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings

CUSTOMERS = [f"1555444{n:04d}" for n in range(8)]
WINDOW = timedelta(hours=24)
TEMPLATE = {"name": "hello_world", "language": {"code": "en_US"}}
RECIPIENTS, ANSWERED, VERIFIED_ANSWERED, DAYS = 2, 3, 5, 3


class TrialMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tenant = create_tenant(
            Sandbox(Settings(seed=3)), CreateTenant(name="t", profile="trial", clock=ConfigureClock(mode="frozen"))
        )
        self.tenant.policy.patch(
            {
                "messages": {"progression": "manual"},
                "limits": {"throughput_mps": {"STANDARD": 100_000}, "pair_rate_burst": 1_000_000},
                "trial": {"recipients": RECIPIENTS, "customers": ANSWERED, "verified_customers": VERIFIED_ANSWERED},
                "trial_days": DAYS,
            }
        )
        self.phone = self.tenant.document()["phone_number_id"]
        self.start = self.tenant.clock.now()
        self.last_inbound: dict[str, timedelta] = {}
        self.recipients: set[str] = set()
        self.customers: set[str] = set()

    @property
    def elapsed(self) -> timedelta:
        return self.tenant.clock.now() - self.start

    def _statuses(self) -> tuple[bool, bool]:
        business = self.tenant.store.businesses.get(self.tenant.business_id)
        waba = self.tenant.store.wabas.get(self.tenant.waba_id)
        assert business is not None and waba is not None
        return business.verification_status == "verified", waba.account_review_status == "APPROVED"

    def _expected(self, wa_id: str, template: bool) -> int | None:
        verified, approved = self._statuses()
        waba = self.tenant.store.wabas.get(self.tenant.waba_id)
        if waba is not None and waba.account_review_status == "REJECTED":
            return 131031  # a rejected WABA is disabled before the trial counts anything (services/waba_review.py)
        if verified and approved:
            return None
        if self.elapsed >= timedelta(days=DAYS):
            return 131031
        last = self.last_inbound.get(wa_id)
        outside = last is None or self.elapsed - last >= WINDOW
        if template:
            return 131030 if wa_id not in self.recipients and len(self.recipients) >= RECIPIENTS else None
        if outside:
            return None  # free-form outside the window: no trial count; it fails with 131047 later
        limit = VERIFIED_ANSWERED if verified else ANSWERED
        return 131048 if wa_id not in self.customers and len(self.customers) >= limit else None

    def _trace(self) -> tuple[object, ...]:
        store, trial = self.tenant.store, self.tenant.store.trial
        assert trial is not None
        slots = self.tenant.limits.number_slots(self.phone).count(self.tenant.clock.now())
        return (len(store.messages), frozenset(trial.recipients), frozenset(trial.customers), slots,
                dict(store.windows.last_inbound))  # fmt: skip

    def _send(self, wa_id: str, template: bool) -> None:
        expected = self._expected(wa_id, template)
        verified, approved = self._statuses()
        before = self._trace()
        command = SendMessage(self.phone, wa_id, "template", TEMPLATE) if template else SendMessage(
            self.phone, wa_id, "text", {"body": "hello"}
        )  # fmt: skip
        try:
            message = messaging.send_message(self.tenant, command)
        except GraphError as error:
            assert int(error.code) == expected, (error, expected)
            assert self._trace() == before
            return
        assert expected is None, expected
        assert messaging.find_message(self.tenant, message.wamid) is message
        assert len(self.tenant.store.messages) == before[0] + 1
        if verified and approved:
            return
        last = self.last_inbound.get(wa_id)
        if template:
            self.recipients.add(wa_id)
        elif last is not None and self.elapsed - last < WINDOW:
            self.customers.add(wa_id)

    @rule(wa_id=st.sampled_from(CUSTOMERS))
    def customer_writes(self, wa_id: str) -> None:
        messaging.receive_message(self.tenant, ReceiveMessage(wa_id, "text", {"body": "hi"}))
        self.last_inbound[wa_id] = self.elapsed

    @rule(wa_id=st.sampled_from(CUSTOMERS))
    def send_template(self, wa_id: str) -> None:
        self._send(wa_id, template=True)

    @rule(wa_id=st.sampled_from(CUSTOMERS))
    def send_reply(self, wa_id: str) -> None:
        self._send(wa_id, template=False)

    @rule(hours=st.one_of(st.sampled_from([24, 72]), st.integers(min_value=0, max_value=30)))
    def advance(self, hours: int) -> None:
        self.tenant.clock.advance(to=self.tenant.clock.now() + timedelta(hours=hours))

    @rule(status=st.sampled_from(["not_verified", "pending", "verified", "rejected"]))
    def set_verification(self, status: str) -> None:
        business = self.tenant.store.businesses.get(self.tenant.business_id)
        assert business is not None
        business.verification_status = status

    @rule(status=st.sampled_from(["PENDING", "APPROVED", "REJECTED"]))
    def set_review(self, status: str) -> None:
        waba = self.tenant.store.wabas.get(self.tenant.waba_id)
        assert waba is not None
        waba.account_review_status = status

    @invariant()
    def counters_agree_and_stay_within_limits(self) -> None:
        trial = self.tenant.store.trial
        assert trial is not None
        assert trial.recipients == self.recipients and len(trial.recipients) <= RECIPIENTS
        assert trial.customers == self.customers and len(trial.customers) <= VERIFIED_ANSWERED


def test_trial_counters() -> None:
    run_state_machine_as_test(TrialMachine, settings=settings(settings.default, stateful_step_count=40))
