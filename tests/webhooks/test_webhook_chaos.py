"""Chaos a receiver must survive, opt-in per tenant and replayable under the tenant seed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.domain.errors import Invalid
from sandbox.services.tenants import create_tenant
from sandbox.testing import RecordingTransport
from sandbox.webhooks.signing import verify

CUSTOMER = "16505551234"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _chaotic(sandbox: Sandbox, name: str, **knobs: object) -> Tenant:
    tenant = create_tenant(
        sandbox,
        CreateTenant(name=name, seed=42, clock=ConfigureClock(mode="frozen"), webhook_url="http://receiver.test/hook"),
        start=START,
    )
    tenant.policy.messages.progression = "immediate"
    tenant.policy.patch(dict(knobs))
    return tenant


def _conversation(tenant: Tenant, send_text, inbound, rounds: int = 5) -> None:
    for n in range(rounds):
        inbound(tenant, f"165055510{n:02d}")
        send_text(tenant, f"165055510{n:02d}")


def test_chaos_is_off_by_default(tenant: Tenant, send_text, inbound) -> None:
    _conversation(tenant, send_text, inbound)
    assert all(d.chaos == () for d in tenant.outbox.log(tenant.id))


def test_the_same_seed_replays_the_same_chaos(sandbox: Sandbox, send_text, inbound) -> None:
    knobs = {
        "webhook_duplicate_probability": 0.3,
        "webhook_bad_signature_probability": 0.3,
        "webhook_reorder_probability": 0.3,
        "webhook_delivery_delay": [0.5, 3.0],
    }
    runs = []
    for name in ("a", "b"):
        tenant = _chaotic(sandbox, name, **knobs)
        _conversation(tenant, send_text, inbound, rounds=10)
        now = tenant.clock.now()  # frozen, but each tenant froze at its own instant
        runs.append(
            [(d.summary, d.chaos, d.not_before - now if d.not_before else None) for d in tenant.outbox.log(tenant.id)]
        )
    assert runs[0] == runs[1]
    tags = {tag for _, chaos, _ in runs[0] for tag in chaos}
    assert tags == {"duplicate", "bad_signature", "reordered", "delayed"}


def test_duplicates_are_the_same_bytes_twice(sandbox: Sandbox, send_text, inbound) -> None:
    tenant = _chaotic(sandbox, "dup", webhook_duplicate_probability=1.0)
    inbound(tenant, CUSTOMER)
    first, second = tenant.outbox.log(tenant.id)
    assert first.body == second.body and first.headers == second.headers
    assert second.chaos == ("duplicate",)


def test_a_wrong_signature_does_not_verify(sandbox: Sandbox, inbound) -> None:
    tenant = _chaotic(sandbox, "sig", webhook_bad_signature_probability=1.0)
    inbound(tenant, CUSTOMER)
    delivery = tenant.outbox.log(tenant.id)[0]
    assert not verify(tenant.credentials.app_secret, delivery.body, delivery.headers["X-Hub-Signature-256"])


@pytest.mark.parametrize("reorder", [True, False])
def test_reordered_statuses_overtake_each_other(
    sandbox: Sandbox, transport: RecordingTransport, outbox_runner, send_text, inbound, reorder: bool
) -> None:
    tenant = _chaotic(sandbox, "ro", webhook_reorder_probability=1.0 if reorder else 0.0)

    async def scenario() -> None:
        async with outbox_runner as runner:
            inbound(tenant, CUSTOMER)
            message = send_text(tenant, CUSTOMER)
            await runner.settle()
            assert transport.statuses(message.wamid) == ([] if reorder else ["sent", "delivered", "read"])
            tenant.clock.advance(tenant.policy.webhooks.reorder_hold_seconds)
            await runner.settle()
            arrived = transport.statuses(message.wamid)
            assert sorted(arrived) == ["delivered", "read", "sent"]

    asyncio.run(scenario())


def test_delayed_delivery_waits_on_the_tenant_clock(
    sandbox: Sandbox, transport: RecordingTransport, outbox_runner, inbound
) -> None:
    tenant = _chaotic(sandbox, "late", webhook_delivery_delay=[30.0, 30.0])

    async def scenario() -> None:
        async with outbox_runner as runner:
            inbound(tenant, CUSTOMER)
            await runner.settle()
            assert transport.posted == []
            tenant.clock.advance(29)
            await runner.settle()
            assert transport.posted == []
            tenant.clock.advance(1)
            await runner.settle()
            assert len(transport.posted) == 1

    asyncio.run(scenario())


def test_batching_puts_several_changes_in_one_post(sandbox: Sandbox, send_text, inbound) -> None:
    tenant = _chaotic(sandbox, "batch", webhook_batch_max=10, webhook_batch_window_seconds=5)
    inbound(tenant, CUSTOMER)
    send_text(tenant, CUSTOMER)
    assert tenant.outbox.log(tenant.id) == []
    tenant.clock.advance(5)
    (delivery,) = tenant.outbox.log(tenant.id)
    import orjson

    body = orjson.loads(delivery.body)
    changes = body["entry"][0]["changes"]
    assert len(body["entry"]) == 1 and len(changes) == 4
    assert [list(c["value"])[-1] for c in changes] == ["messages", "statuses", "statuses", "statuses"]
    assert delivery.field == "messages" and delivery.chaos == ("batched",)
    assert len(delivery.wamids) == 4


def test_bad_chaos_knobs_are_refused(tenant: Tenant) -> None:
    for knobs in (
        {"webhook_duplicate_probability": 1.5},
        {"webhook_overflow": "drop_all"},
        {"webhook_delivery_delay": [3, 1]},
        {"webhook_batch_max": 0},
    ):
        with pytest.raises(Invalid):
            tenant.policy.patch(knobs)
