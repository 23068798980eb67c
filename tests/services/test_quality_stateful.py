"""A number's quality rating under random interleavings of business-initiated sends and replies, customers'
reactions of every kind, forced ratings, RESTRICTED on and off and clock jumps of minutes to 30 days, in both eras:
the rating is always one of Meta's, each change is one webhook, today nothing is FLAGGED or downgraded, a legacy
FLAGGED follows RED and ends after `flag_days`, a RESTRICTED number sends no business-initiated message."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox
from sandbox.domain.commands import ConfigureClock, CreateTenant, ReceiveMessage, SendMessage, SetMessagingLimitTier
from sandbox.domain.messaging_limit import TIERS, MessagingLimitTier
from sandbox.domain.phone_number import QualityRating
from sandbox.errors import GraphError
from sandbox.services import messaging, messaging_limits, phone_numbers, quality
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import RecordingTransport

CUSTOMERS = [f"1555666{n:04d}" for n in range(6)]
TEMPLATE = {"name": "hello_world", "language": {"code": "en_US"}}
RATINGS = [rating.value for rating in QualityRating]
RATING_EVENTS = {"QUALITY_UPDATE", "FLAGGED"}
LEGACY_EVENTS = {"FLAGGED", "UNFLAGGED", "DOWNGRADE"}
FLAG_DAYS, KEPT = 3, 5
# No more than one midnight per step of the clock, so at most one recheck (one rating change) between looks.
STEP = timedelta(hours=12)


class QualityMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        sandbox = Sandbox(Settings(seed=11))
        self.tenant = create_tenant(sandbox, CreateTenant(name="q", clock=ConfigureClock(mode="frozen")))
        self.client = TestClient(create_app(sandbox, transport=RecordingTransport()))
        self.base = f"/_sandbox/tenants/{self.tenant.id}"
        self.phone_id = self.tenant.document()["phone_number_id"]
        phone = self.tenant.store.phone_numbers.get(self.phone_id)
        assert phone is not None
        self.phone = phone
        self.seen = 0
        self.rating_webhooks = 0
        self.changes = 0
        self.flagged_since: datetime | None = None
        self.lowest_tier = TIERS.index(self._tier())

    @initialize(rule=st.sampled_from(["legacy", "current"]))
    def era(self, rule: str) -> None:
        self.rule = rule
        self.tenant.policy.patch(
            {
                "messages": {"progression": "immediate"},
                "limits": {"throughput_mps": {"STANDARD": 100_000}, "pair_rate_burst": 1_000_000},
                "trial_enabled": False,
                "quality": {"rule": rule, "min_sample": 4, "reactions_kept": KEPT, "flag_days": FLAG_DAYS},
            }
        )
        messaging_limits.set_tier(self.tenant, SetMessagingLimitTier("TIER_100K"))
        self.lowest_tier = TIERS.index(self._tier())

    def _tier(self) -> MessagingLimitTier:
        business = self.tenant.store.businesses.get(self.tenant.business_id)
        assert business is not None
        return MessagingLimitTier(business.messaging_limit_tier)

    def _window_open(self, wa_id: str) -> bool:
        return self.tenant.store.windows.is_open(self.phone_id, wa_id, self.tenant.clock.now())

    def _watch(self, action: Callable[[], Any]) -> None:
        before = self.phone.quality_rating, self.phone.status
        action()
        if self.phone.quality_rating != before[0]:
            self.changes += 1
        if self.phone.status == "FLAGGED" and before[1] != "FLAGGED":
            assert self.phone.quality_rating == "RED"  # FLAGGED only as the number turns RED
            self.flagged_since = self.tenant.clock.now()
        if self.phone.status != "FLAGGED":
            self.flagged_since = None

    @rule(wa_id=st.sampled_from(CUSTOMERS))
    def business_initiated(self, wa_id: str) -> None:
        sent = quality.number_quality(self.tenant, self.phone_id).sent
        restricted = self.phone.status == "RESTRICTED" and not self._window_open(wa_id)
        try:
            self._watch(
                lambda: messaging.send_message(self.tenant, SendMessage(self.phone_id, wa_id, "template", TEMPLATE))
            )
        except GraphError as refused:
            assert restricted and int(refused.code) == 131048, refused
        else:
            assert not restricted
        if restricted:
            assert quality.number_quality(self.tenant, self.phone_id).sent == sent

    @rule(wa_id=st.sampled_from(CUSTOMERS))
    def customer_writes_and_is_answered(self, wa_id: str) -> None:
        messaging.receive_message(self.tenant, ReceiveMessage(wa_id, "text", {"body": "Hi"}, self.phone_id))
        sent = quality.number_quality(self.tenant, self.phone_id).sent
        reply = messaging.send_message(self.tenant, SendMessage(self.phone_id, wa_id, "text", {"body": "Hello"}))
        assert reply.wamid
        assert quality.number_quality(self.tenant, self.phone_id).sent == sent  # a reply is not business-initiated

    @rule(wa_id=st.sampled_from(CUSTOMERS), kind=st.sampled_from(["block", "report", "read"]))
    def react(self, wa_id: str, kind: str) -> None:
        body = {"kind": kind, "phone_number_id": self.phone_id}
        self._watch(lambda: self._ok(self.client.post(f"{self.base}/customers/{wa_id}/reactions", json=body)))

    @rule(rating=st.sampled_from(RATINGS))
    def force(self, rating: str) -> None:
        url = f"{self.base}/phone_numbers/{self.phone_id}/quality"
        self._watch(lambda: self._ok(self.client.put(url, json={"quality_rating": rating})))
        assert self.phone.quality_rating == rating

    @precondition(lambda self: self.phone.status in {"CONNECTED", "RESTRICTED"})
    @rule()
    def restrict_or_lift(self) -> None:
        move = "restrict" if self.phone.status == "CONNECTED" else "unrestrict"
        self._watch(lambda: phone_numbers.move_by_hand(self.tenant, self.phone_id, move))

    @rule(seconds=st.integers(min_value=60, max_value=int(timedelta(days=30).total_seconds())))
    def time_passes(self, seconds: int) -> None:
        left = timedelta(seconds=seconds)
        while left > timedelta(0):
            step = min(left, STEP)
            self._watch(partial(self.tenant.clock.advance, step.total_seconds()))
            left -= step

    def _ok(self, response: Any) -> None:
        assert response.status_code == 200, (response.status_code, response.text)

    @invariant()
    def the_rating_is_one_of_metas(self) -> None:
        assert self.phone.quality_rating in RATINGS

    @invariant()
    def one_webhook_per_rating_change(self) -> None:
        log = self.tenant.outbox.log(self.tenant.id)
        for delivery in log[self.seen :]:
            if delivery.field != "phone_number_quality_update":
                continue
            event = json.loads(delivery.body)["entry"][0]["changes"][0]["value"]["event"]
            assert self.rule == "legacy" or event not in LEGACY_EVENTS, event
            self.rating_webhooks += event in RATING_EVENTS
        self.seen = len(log)
        assert self.rating_webhooks == self.changes

    @invariant()
    def the_era_holds(self) -> None:
        tier = TIERS.index(self._tier())
        if self.rule == "current":
            assert self.phone.status != "FLAGGED"
            assert tier == self.lowest_tier  # no downgrade today (and nothing here raises the tier)
        else:
            assert tier >= self.lowest_tier - 1  # one step per DOWNGRADE, never below TIER_250 (index 0)
            self.lowest_tier = tier

    @invariant()
    def flagged_ends_after_flag_days(self) -> None:
        if self.flagged_since is not None:
            assert self.tenant.clock.now() - self.flagged_since < timedelta(days=FLAG_DAYS)

    @invariant()
    def reactions_kept_are_bounded(self) -> None:
        assert len(quality.number_quality(self.tenant, self.phone_id).reactions) <= KEPT


def test_quality_under_random_interleavings() -> None:
    run_state_machine_as_test(
        QualityMachine, settings=settings(settings.default, max_examples=60, stateful_step_count=40, deadline=None)
    )
