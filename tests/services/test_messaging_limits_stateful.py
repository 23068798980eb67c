"""The messaging limit under random interleavings of templates to random users, customers writing, replies, clock
jumps, verification, quality changes and forced reviews: never more unique users outside windows in a moving 24 h
than the tier allows, a refused message leaves no count, and the tier never goes down."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from sandbox.context import Sandbox
from sandbox.domain.commands import ConfigureClock, CreateTenant, ForceDecision, ReceiveMessage, SendMessage
from sandbox.domain.messaging_limit import TIERS
from sandbox.services import decisions, messaging, messaging_limits
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings

USERS = [f"1555333{n:04d}" for n in range(16)]
DAY = timedelta(hours=24)
TEMPLATE = {"name": "hello_world", "language": {"code": "en_US"}}
SIZES = {"TIER_250": 3, "TIER_2K": 5, "TIER_10K": 8, "TIER_100K": 12}
DECISIONS = ["approve", "defer", "fail", "need_more_info"]


class MessagingLimitMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tenant = create_tenant(
            Sandbox(Settings(seed=5)), CreateTenant(name="t", profile="trial", clock=ConfigureClock(mode="frozen"))
        )
        self.tenant.policy.patch(
            {
                "messages": {"progression": "immediate"},
                "limits": {"throughput_mps": {"STANDARD": 100_000}, "pair_rate_burst": 1_000_000},
                "trial_enabled": False,
                "messaging_limits": {
                    "tier_sizes": SIZES,
                    "scaling_path_users": 6,
                    "review_latency": [60, 3600],
                    "upgrade_delay": [0, 3600],
                },
            }
        )
        self.phone = next(iter(self.tenant.store.phone_numbers))
        # Outside the trial a PENDING WABA cannot send at all (§3.3); this machine is about the tier.
        self.tenant.store.wabas.get(self.tenant.waba_id).account_review_status = "APPROVED"
        business = self.tenant.store.businesses.get(self.tenant.business_id)
        assert business is not None
        self.business = business
        self.counted: list[tuple[datetime, str]] = []
        self.highest = 0

    @property
    def now(self) -> datetime:
        return self.tenant.clock.now()

    def _reached(self) -> set[str]:
        return {wa_id for at, wa_id in self.counted if self.now - at < DAY}

    def _send(self, wa_id: str, kind: str) -> int | None:
        content = TEMPLATE if kind == "template" else {"body": "Thanks!"}
        message = messaging.send_message(self.tenant, SendMessage(self.phone.id, wa_id, kind, content))
        return int(message.failure[0]) if message.failure else None

    @rule(wa_id=st.sampled_from(USERS))
    def template(self, wa_id: str) -> None:
        window_open = self.tenant.store.windows.is_open(self.phone.id, wa_id, self.now)
        size = SIZES.get(self.business.messaging_limit_tier)
        reached = self._reached()
        over = not window_open and size is not None and wa_id not in reached and len(reached) >= size
        code = self._send(wa_id, "template")
        assert code == (131048 if over else None)
        if not window_open and not over and size is not None and wa_id not in reached:
            self.counted.append((self.now, wa_id))

    @rule(wa_id=st.sampled_from(USERS))
    def reply(self, wa_id: str) -> None:
        window_open = self.tenant.store.windows.is_open(self.phone.id, wa_id, self.now)
        assert self._send(wa_id, "text") == (None if window_open else 131047)

    @rule(wa_id=st.sampled_from(USERS))
    def customer_writes(self, wa_id: str) -> None:
        messaging.receive_message(self.tenant, ReceiveMessage(wa_id, "text", {"body": "Hi"}, self.phone.id))

    @rule(seconds=st.sampled_from([1, 600, 3600, 6 * 3600, 23 * 3600, 24 * 3600, 3 * 86400, 8 * 86400]))
    def advance(self, seconds: int) -> None:
        self.tenant.clock.advance(seconds)

    @rule()
    def verified(self) -> None:
        pending = messaging_limits.business_verified(self.tenant)
        assert (pending is None) == (self.business.messaging_limit_tier != "TIER_250")

    @rule(rating=st.sampled_from(["GREEN", "YELLOW", "RED"]))
    def quality(self, rating: str) -> None:
        self.phone.quality_rating = rating

    @precondition(lambda self: bool(self.tenant.store.decisions))
    @rule(decision=st.sampled_from(DECISIONS))
    def force_review(self, decision: str) -> None:
        before = self.business.messaging_limit_tier
        decisions.force(self.tenant, ForceDecision("messaging_limit", self.business.id, decision))
        expected = "TIER_2K" if decision == "approve" and before == "TIER_250" else before
        assert self.business.messaging_limit_tier == expected

    @invariant()
    def never_more_users_than_the_tier_allows(self) -> None:
        size = SIZES.get(self.business.messaging_limit_tier)
        reached = self._reached()
        assert size is None or len(reached) <= size
        document = messaging_limits.document(self.tenant)
        if size is not None:
            assert document["unique_users_24h"] == len(reached), "refused and uncounted messages leave no count"

    @invariant()
    def the_tier_never_goes_down(self) -> None:
        index = TIERS.index(self.business.messaging_limit_tier)  # type: ignore[arg-type]
        assert index >= self.highest
        self.highest = index


def test_messaging_limit_state_machine() -> None:
    run_state_machine_as_test(
        MessagingLimitMachine, settings=settings(max_examples=60, stateful_step_count=40, deadline=None)
    )
