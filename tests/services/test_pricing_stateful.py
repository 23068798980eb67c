"""The cost ledger under random sends, inbound messages (some from an ad), deliveries, failures and clock jumps
across the eras: the ledger's total is the sum of its billable charges, each CBP conversation and each PMP message
is charged at most once, only delivered messages are charged, and every delivered message is (docs/pricing.md)."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import UTC, datetime, timedelta

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

from sandbox.context import Sandbox
from sandbox.domain.commands import ConfigureClock, CreateTenant, ReceiveMessage, SendMessage
from sandbox.domain.lifecycle import InvalidTransition
from sandbox.domain.message import Message, MessageStatus
from sandbox.services import messaging, progression
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings

CUSTOMERS = ["16505550001", "16505550002", "5511987654321", "919876543210", "33612345678"]
TEMPLATE = {"name": "hello_world", "language": {"code": "en_US"}}
START = datetime(2023, 5, 30, 12, 0, tzinfo=UTC)
DELIVERED = (MessageStatus.DELIVERED, MessageStatus.READ)


class PricingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tenant = create_tenant(
            Sandbox(Settings(seed=5)), CreateTenant(name="t", clock=ConfigureClock(mode="frozen")), start=START
        )
        self.tenant.policy.patch(
            {
                "messages": {"progression": "manual"},
                "limits": {"throughput_mps": {"STANDARD": 100_000}, "pair_rate_burst": 1_000_000},
                "pricing": {"free_tier_conversations": 3},
            }
        )
        self.phone = self.tenant.document()["phone_number_id"]
        self.sent: list[Message] = []

    @initialize(model=st.sampled_from(["auto", "conversation", "conversation_category", "per_message"]))
    def choose_model(self, model: str) -> None:
        self.tenant.policy.pricing.model = model

    @rule(wa_id=st.sampled_from(CUSTOMERS))
    def customer_writes(self, wa_id: str) -> None:
        messaging.receive_message(self.tenant, ReceiveMessage(wa_id, "text", {"body": "hi"}))

    @rule(wa_id=st.sampled_from(CUSTOMERS))
    def customer_writes_from_an_ad(self, wa_id: str) -> None:
        content = {"body": "hi", "referral": {"source_type": "ad", "source_id": "1", "source_url": "https://fb.me/x"}}
        messaging.receive_message(self.tenant, ReceiveMessage(wa_id, "text", content))

    @rule(wa_id=st.sampled_from(CUSTOMERS), category=st.sampled_from(["UTILITY", "MARKETING", "AUTHENTICATION"]))
    def send_template(self, wa_id: str, category: str) -> None:
        next(iter(self.tenant.store.templates)).category = category
        self.sent.append(messaging.send_message(self.tenant, SendMessage(self.phone, wa_id, "template", TEMPLATE)))

    @rule(wa_id=st.sampled_from(CUSTOMERS))
    def send_reply(self, wa_id: str) -> None:
        command = SendMessage(self.phone, wa_id, "text", {"body": "hello"})
        self.sent.append(messaging.send_message(self.tenant, command))

    @precondition(lambda self: bool(self.sent))
    @rule(index=st.integers(min_value=0), action=st.sampled_from(["deliver", "read", "fail"]))
    def move(self, index: int, action: str) -> None:
        message = self.sent[index % len(self.sent)]
        with contextlib.suppress(InvalidTransition):
            progression.move_by_hand(self.tenant, message, action, None, None)

    @rule(read=st.booleans())
    def deliver_the_oldest_priced(self, read: bool) -> None:
        waiting = [m for m in self.sent if m.pricing is not None and m.status in (MessageStatus.ACCEPTED, "sent")]
        if waiting:
            progression.move_by_hand(self.tenant, waiting[0], "read" if read else "deliver", None, None)

    @rule(hours=st.sampled_from([0, 1, 23, 24, 25, 72, 24 * 31, 24 * 400]))
    def advance(self, hours: int) -> None:
        self.tenant.clock.advance(to=self.tenant.clock.now() + timedelta(hours=hours))

    @invariant()
    def ledger_adds_up(self) -> None:
        ledger = self.tenant.store.ledger
        entries = list(ledger.entries)
        assert ledger.total.charges == len(entries)  # nothing evicted at this size
        assert ledger.total.amount_micros == sum(c.amount_micros for c in entries if c.billable)
        assert all(c.amount_micros == 0 for c in entries if not c.billable)
        assert ledger.total.billable == sum(c.billable for c in entries)
        assert ledger.total.amount_micros == sum(t.amount_micros for t in ledger.by_category.values())
        assert ledger.total.amount_micros == sum(t.amount_micros for t in ledger.by_month.values())

    @invariant()
    def each_conversation_and_message_is_charged_once(self) -> None:
        entries = list(self.tenant.store.ledger.entries)
        conversations = Counter(c.conversation_id for c in entries if c.pricing_model == "CBP")
        assert all(count == 1 for count in conversations.values()), conversations
        assert all(c.conversation_id is None for c in entries if c.pricing_model == "PMP")
        pmp = Counter(c.wamid for c in entries if c.pricing_model == "PMP")
        assert all(count == 1 for count in pmp.values())

    @invariant()
    def only_and_all_delivered_messages_are_charged(self) -> None:
        by_wamid = {message.wamid: message for message in self.sent}
        for charge in self.tenant.store.ledger.entries:
            assert by_wamid[charge.wamid].status in DELIVERED
        for message in self.sent:
            if message.status == MessageStatus.FAILED or message.pricing is None:
                assert message.pricing is None or not message.pricing.charged
                assert all(charge.wamid != message.wamid for charge in self.tenant.store.ledger.entries)
            # A message the platform decided to fail has no pricing: moved to delivered by hand, it costs nothing.
            if message.status in DELIVERED and message.pricing is not None:
                assert message.pricing.charged
                conversation = message.pricing.conversation
                assert conversation is None or conversation.charged


def test_the_ledger_adds_up() -> None:
    run_state_machine_as_test(PricingMachine, settings=settings(settings.default, stateful_step_count=60))
