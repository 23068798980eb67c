"""`phone_number_quality_update` for a number's quality rating, the whole signed envelope as the receiver gets it,
in both eras (meta-lifecycle.md §3.7): before 2025-10-07 FLAGGED, then DOWNGRADE (`old_limit`) or UNFLAGGED; today
the sandbox's own QUALITY_UPDATE (docs/fidelity-choices.md)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant, SetMessagingLimitTier
from sandbox.services import messaging_limits, quality
from sandbox.services.tenants import create_tenant
from sandbox.testing import RecordingTransport
from sandbox.webhooks.signing import verify
from tests.conftest import CALLBACK

LEGACY_START = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
TODAY_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FIELD = "phone_number_quality_update"


def tenant_at(sandbox: Sandbox, name: str, start: datetime) -> Tenant:
    tenant = create_tenant(
        sandbox, CreateTenant(name=name, clock=ConfigureClock(mode="frozen"), webhook_url=CALLBACK), start=start
    )
    messaging_limits.set_tier(tenant, SetMessagingLimitTier("TIER_10K"))
    return tenant


def received(tenant: Tenant, transport: RecordingTransport, since: int) -> list[dict[str, Any]]:
    """The quality updates posted since `since`, each checked signed with the app secret and sent to the callback."""
    bodies = []
    for posted in transport.posted[since:]:
        assert posted.url == CALLBACK
        assert verify(tenant.credentials.app_secret, posted.body, posted.headers["X-Hub-Signature-256"])
        body = posted.json()
        if body["entry"][0]["changes"][0]["field"] == FIELD:
            bodies.append(body)
    return bodies


def envelope(tenant: Tenant, at: datetime, value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": tenant.waba_id, "time": int(at.timestamp()), "changes": [{"value": value, "field": FIELD}]}],
    }


def test_legacy_flagged_then_downgrade(sandbox: Sandbox, transport: RecordingTransport, outbox_runner) -> None:
    tenant = tenant_at(sandbox, "legacy", LEGACY_START)
    phone = tenant.store.phone_numbers.get(tenant.document()["phone_number_id"])
    assert phone is not None

    async def scenario() -> None:
        async with outbox_runner as runner:
            await runner.settle()
            since = len(transport.posted)
            flagged_at = tenant.clock.now()
            quality.force(tenant, phone.id, "RED")
            await runner.settle()
            tenant.clock.advance(timedelta(days=7).total_seconds())
            await runner.settle()
            flagged, downgrade = received(tenant, transport, since)
            number = phone.display_phone_number
            assert flagged == envelope(
                tenant, flagged_at, {"display_phone_number": number, "event": "FLAGGED", "current_limit": "TIER_10K"}
            )
            assert downgrade == envelope(
                tenant,
                flagged_at + timedelta(days=7),
                {
                    "display_phone_number": number,
                    "event": "DOWNGRADE",
                    "current_limit": "TIER_2K",
                    "old_limit": "TIER_10K",
                },
            )

    asyncio.run(scenario())


def test_legacy_recovery_is_unflagged(sandbox: Sandbox, transport: RecordingTransport, outbox_runner) -> None:
    tenant = tenant_at(sandbox, "recovers", LEGACY_START)
    phone_id = tenant.document()["phone_number_id"]

    async def scenario() -> None:
        async with outbox_runner as runner:
            await runner.settle()
            since = len(transport.posted)
            quality.force(tenant, phone_id, "RED")
            quality.force(tenant, phone_id, "GREEN")
            tenant.clock.advance(timedelta(days=7).total_seconds())
            await runner.settle()
            values = [body["entry"][0]["changes"][0]["value"] for body in received(tenant, transport, since)]
            assert [(v["event"], v["current_limit"], "old_limit" in v) for v in values] == [
                ("FLAGGED", "TIER_10K", False),
                ("QUALITY_UPDATE", "TIER_10K", False),
                ("UNFLAGGED", "TIER_10K", False),
            ]

    asyncio.run(scenario())


def test_today_a_rating_change_is_a_quality_update(
    sandbox: Sandbox, transport: RecordingTransport, outbox_runner
) -> None:
    tenant = tenant_at(sandbox, "today", TODAY_START)
    phone = tenant.store.phone_numbers.get(tenant.document()["phone_number_id"])
    assert phone is not None

    async def scenario() -> None:
        async with outbox_runner as runner:
            await runner.settle()
            since = len(transport.posted)
            at = tenant.clock.now()
            quality.force(tenant, phone.id, "RED")
            tenant.clock.advance(timedelta(days=8).total_seconds())
            await runner.settle()
            value = {
                "display_phone_number": phone.display_phone_number,
                "event": "QUALITY_UPDATE",
                "current_limit": "TIER_10K",
            }
            assert received(tenant, transport, since) == [envelope(tenant, at, value)]
            assert phone.status == "CONNECTED"

    asyncio.run(scenario())
