from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ReceiveMessage, SendMessage
from sandbox.domain.events import (
    AccountEvent,
    AccountReviewDecided,
    AccountUpdated,
    BusinessCapabilityChanged,
    DisplayNameDecided,
    PhoneNumberQualityChanged,
    PhoneNumberSecurityEvent,
    TemplateCategoryChanged,
    TemplateComponentsChanged,
    TemplateQualityChanged,
    TemplateStatusChanged,
)
from sandbox.domain.message import Message
from sandbox.domain.messaging_limit import alert_events
from sandbox.domain.phone_number import PhoneNumber
from sandbox.domain.template import MessageTemplate
from sandbox.services.messaging import receive_message, send_message
from sandbox.testing import RecordingTransport, free_port


@contextlib.contextmanager
def serve(app: Any, port: int | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """Like sandbox.testing.running_server, on a port of our choosing, so a receiver can come back at its URL."""
    port = port or free_port(host)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="error", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    try:
        for _ in range(1000):
            if server.started:
                break
            started.wait(0.01)
        assert server.started, "the server did not start"
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def serve_app() -> Any:
    return serve


class OutboxRunner:
    """Runs the shared outbox's workers inside the test's event loop; `settle` waits until nothing is ready."""

    def __init__(self, sandbox: Sandbox, transport: RecordingTransport) -> None:
        self.sandbox = sandbox
        self.transport = transport
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> OutboxRunner:
        self._task = asyncio.create_task(self.sandbox.outbox.run(self.transport, 4))
        await self.settle()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def settle(self) -> None:
        for _ in range(100_000):
            await asyncio.sleep(0)
            # What the server's ticker does: fire what is due on the (frozen) tenant clocks.
            self.sandbox.run_due()
            if self.sandbox.outbox.idle():
                return
        raise AssertionError("the outbox did not settle")


@pytest.fixture
def outbox_runner(sandbox: Sandbox, transport: RecordingTransport) -> OutboxRunner:
    return OutboxRunner(sandbox, transport)


def text_to(tenant: Tenant, to: str = "16505551234", body: str = "Hello") -> Message:
    phone_number_id = tenant.document()["phone_number_id"]
    return send_message(tenant, SendMessage(phone_number_id, to, "text", {"body": body}))


def customer_writes(tenant: Tenant, wa_id: str = "16505551234", body: str = "Hi") -> Message:
    return receive_message(tenant, ReceiveMessage(wa_id, "text", {"body": body}, profile_name="Sheena Nelson"))


@pytest.fixture
def send_text() -> Any:
    return text_to


@pytest.fixture
def inbound() -> Any:
    return customer_writes


ACCOUNT_EVENTS_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _phone(tenant: Tenant) -> PhoneNumber:
    return next(iter(tenant.store.phone_numbers))


def _template(tenant: Tenant) -> MessageTemplate:
    return next(iter(tenant.store.templates))


def _edited(tenant: Tenant) -> MessageTemplate:
    """Meta's edited `order_confirmation` (§4.9), with its header, body, footer and two buttons."""
    buttons = [
        {"type": "PHONE_NUMBER", "text": "Phone support", "phone_number": "+15550783881"},
        {"type": "URL", "text": "Email support", "url": "https://www.luckyshrub.com/support"},
    ]
    return MessageTemplate(
        id="1315502779341834",
        waba_id=tenant.waba_id,
        name="order_confirmation",
        language="en_US",
        category="UTILITY",
        components=[
            {"type": "HEADER", "format": "TEXT", "text": "Your order is confirmed!"},
            {"type": "BODY", "text": "Thank you for your order, {{1}}! Your order number is {{2}}."},
            {"type": "FOOTER", "text": "Lucky Shrub: the Succulent Specialists!"},
            {"type": "BUTTONS", "buttons": buttons},
        ],
    )


def constructed(tenant: Tenant) -> dict[str, list[AccountEvent]]:
    """The same situations as SPEC_VALUES, built with the typed constructors the lifecycles use."""
    phone, template = _phone(tenant), _template(tenant)
    AT = ACCOUNT_EVENTS_AT
    waba = tenant.waba_id
    return {
        "message_template_status_update": [
            TemplateStatusChanged(AT, template=template, event="APPROVED"),
            TemplateStatusChanged(
                AT,
                template=template,
                event="REJECTED",
                reason="INVALID_FORMAT",
                rejection_info={"reason": "…", "recommendation": "…"},
            ),
            TemplateStatusChanged(
                AT, template=template, event="PAUSED", other_info={"title": "SECOND_PAUSE", "description": "…"}
            ),
            TemplateStatusChanged(AT, template=template, event="DISABLED", disable_info={"disable_date": 1751234563}),
        ],
        "message_template_quality_update": [
            TemplateQualityChanged(AT, template=template, previous="GREEN", new="YELLOW")
        ],
        "message_template_components_update": [TemplateComponentsChanged(AT, template=_edited(tenant))],
        "template_category_update": [
            TemplateCategoryChanged(
                AT,
                template=template,
                new_category="UTILITY",
                correct_category="MARKETING",
                category_update_timestamp=1746169200,
            ),
            TemplateCategoryChanged(AT, template=template, previous_category="UTILITY", new_category="MARKETING"),
        ],
        "phone_number_name_update": [
            DisplayNameDecided(AT, phone=phone, decision="APPROVED", requested_verified_name="Lucky Shrub")
        ],
        "phone_number_quality_update": [
            PhoneNumberQualityChanged(
                AT,
                phone=phone,
                event="THROUGHPUT_UPGRADE",
                current_limit="TIER_UNLIMITED",
                max_daily_conversations_per_business="TIER_UNLIMITED",
            ),
            PhoneNumberQualityChanged(AT, phone=phone, event="FLAGGED", current_limit="TIER_10K"),
        ],
        "account_update": [
            AccountUpdated(
                AT,
                waba_id=waba,
                event="DISABLED_UPDATE",
                ban_info={"waba_ban_state": "REINSTATE", "waba_ban_date": "April 17, 2025"},
            ),
            AccountUpdated(
                AT,
                waba_id=waba,
                event="PARTNER_ADDED",
                waba_info={
                    "waba_id": waba,
                    "owner_business_id": tenant.business_id,
                    "solution_id": "1715120619246906",
                    "solution_partner_business_ids": ["2949482758682047"],
                },
            ),
            AccountUpdated(
                AT, waba_id=waba, event="ACCOUNT_VIOLATION", phone=phone, violation_info={"violation_type": "ALCOHOL"}
            ),
        ],
        "account_review_update": [AccountReviewDecided(AT, waba_id=waba, decision="APPROVED")],
        "business_capability_update": [
            BusinessCapabilityChanged(
                AT, waba_id=waba, max_daily_conversations_per_business=2000, max_phone_numbers_per_waba=25
            ),
            BusinessCapabilityChanged(
                AT,
                waba_id=waba,
                max_daily_conversation_per_phone=250,
                max_daily_conversations_per_business="TIER_250",
                max_phone_numbers_per_business=2,
            ),
        ],
        "security": [PhoneNumberSecurityEvent(AT, phone=phone, event="PIN_RESET_REQUEST", requester="61555822107539")],
        "account_alerts": alert_events("defer", "506914307656634", "<BUSINESS_PORTFOLIO_NAME>", [waba], AT),
    }


@pytest.fixture
def account_events(tenant: Tenant) -> dict[str, list[AccountEvent]]:
    """Every account-side webhook field, built with the typed constructors the lifecycles use."""
    return constructed(tenant)
