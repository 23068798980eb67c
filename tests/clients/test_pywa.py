"""pywa 4.5.0, a published Cloud API client, against a real sandbox server on loopback.

pywa sends every message type through its own methods (its `httpx.Client` pointed at the sandbox), uploads and
downloads media, reads phone numbers and templates; its own webhook receiver (a Starlette app on another loopback
port, `app_secret` set so every update's X-Hub-Signature-256 is checked) answers the sandbox's verification GET and
parses the status and message webhooks the sandbox delivers over real HTTP.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pywa import WhatsApp, errors, handlers
from pywa.types import (
    Button,
    Contact,
    FlowButton,
    Message,
    MessageStatus,
    MessageStatusType,
    Section,
    SectionList,
    SectionRow,
    URLButton,
)
from pywa.types.templates import TemplateLanguage
from starlette.applications import Starlette

from sandbox.context import Sandbox
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import running_server

pytestmark = pytest.mark.server

CUSTOMER = "16505551234"
VERIFY_TOKEN = "pywa-verify-token"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
WAIT = 30.0  # seconds a webhook may take over loopback before the test gives up (not a timing assertion)


@dataclass
class Received:
    """What pywa's handlers were given, in arrival order."""

    condition: threading.Condition = field(default_factory=threading.Condition)
    messages: list[Message] = field(default_factory=list)
    statuses: list[MessageStatus] = field(default_factory=list)

    def on_message(self, _: WhatsApp, message: Message) -> None:
        with self.condition:
            self.messages.append(message)
            self.condition.notify_all()

    def on_status(self, _: WhatsApp, status: MessageStatus) -> None:
        with self.condition:
            self.statuses.append(status)
            self.condition.notify_all()

    def wait_for(self, predicate: Callable[[], bool]) -> None:
        with self.condition:
            assert self.condition.wait_for(predicate, timeout=WAIT), "pywa did not receive the expected webhooks"

    def statuses_of(self, wamid: str) -> list[MessageStatusType]:
        return [status.status for status in self.statuses if status.id == wamid]


@dataclass
class Setup:
    wa: WhatsApp
    received: Received
    sandbox_url: str
    receiver_url: str
    document: dict[str, Any]


@pytest.fixture
def setup() -> Iterator[Setup]:
    sandbox = Sandbox(Settings(seed=11))
    tenant = create_tenant(
        sandbox,
        CreateTenant(name="pywa", clock=ConfigureClock(mode="frozen")),
        start=datetime(2026, 1, 5, 9, tzinfo=UTC),
    )
    tenant.policy.messages.progression = "immediate"
    document = tenant.document()
    received = Received()
    receiver = Starlette()
    session = httpx.Client(timeout=10)
    wa = WhatsApp(
        phone_id=document["phone_number_id"],
        token=document["access_token"],
        session=session,
        server=receiver,
        verify_token=VERIFY_TOKEN,
        app_secret=document["app_secret"],
        validate_updates=True,
        waba_id=document["waba_id"],
        api_version="23.0",
    )
    wa.add_handlers(handlers.MessageHandler(received.on_message), handlers.MessageStatusHandler(received.on_status))
    with running_server(app=receiver) as receiver_url, running_server(sandbox) as sandbox_url:
        # pywa fixes the Graph host in its session; the base URL is all that points it at the sandbox.
        session.base_url = httpx.URL(f"{sandbox_url}/v23.0/")
        # The app dashboard step: the sandbox performs Meta's verification GET against pywa's receiver.
        configured = httpx.put(
            f"{sandbox_url}/_sandbox/tenants/pywa/webhook",
            json={"url": f"{receiver_url}/", "verify_token": VERIFY_TOKEN},
        )
        assert configured.status_code == 200, configured.text
        yield Setup(wa, received, sandbox_url, receiver_url, document)
        session.close()


def customer_writes(setup: Setup, text: str = "Hi, is my order ready?") -> Message:
    response = httpx.post(
        f"{setup.sandbox_url}/_sandbox/tenants/pywa/inbound",
        json={"from": CUSTOMER, "type": "text", "text": {"body": text}, "profile": {"name": "Sheena Nelson"}},
    )
    assert response.status_code == 200, response.text
    wamid = response.json()["message"]["id"]
    setup.received.wait_for(lambda: any(m.id == wamid for m in setup.received.messages))
    return next(m for m in setup.received.messages if m.id == wamid)


def test_pywa_parses_an_inbound_text_message(setup: Setup) -> None:
    message = customer_writes(setup)
    assert message.text == "Hi, is my order ready?"
    assert message.from_user.wa_id == CUSTOMER
    assert message.from_user.name == "Sheena Nelson"
    assert message.from_user.bsuid is not None and message.from_user.bsuid.startswith("US.")
    assert message.metadata.phone_number_id == setup.document["phone_number_id"]


def test_pywa_replies_by_bsuid_by_default_and_reaches_the_customer(setup: Setup) -> None:
    """pywa 4.5 answers a message with `recipient` (the BSUID first, no `to`); the reply is the customer's."""
    inbound = customer_writes(setup)
    reply = inbound.reply_text("Yes, it shipped today")
    assert reply.to == inbound.from_user.bsuid and reply.input == inbound.from_user.bsuid
    expected = [MessageStatusType.SENT, MessageStatusType.DELIVERED, MessageStatusType.READ]
    # pywa acknowledges a POST before its handler runs, so its handlers may record the lane's ordered deliveries
    # in another order under load: wait for all three and compare as a sequence of the three, each once.
    setup.received.wait_for(lambda: len(setup.received.statuses_of(reply.id)) >= 3)
    assert sorted(setup.received.statuses_of(reply.id), key=expected.index) == expected
    assert all(s.from_user.wa_id == CUSTOMER for s in setup.received.statuses if s.id == reply.id)
    journal = httpx.get(f"{setup.sandbox_url}/_sandbox/tenants/pywa/messages", params={"direction": "outbound"})
    assert [(m["id"], m["wa_id"]) for m in journal.json()["data"]] == [(reply.id, CUSTOMER)]


def test_pywa_receiver_rejects_a_bad_signature(setup: Setup) -> None:
    """The signature check is really on: the same receiver refuses a body that the app secret did not sign."""
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    unsigned = httpx.post(f"{setup.receiver_url}/", content=body, headers={"Content-Type": "application/json"})
    forged = httpx.post(f"{setup.receiver_url}/", content=body, headers={"X-Hub-Signature-256": "sha256=" + "0" * 64})
    assert (unsigned.status_code, forged.status_code) == (401, 403)


def test_pywa_sends_every_message_type(setup: Setup, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="pywa")
    wa, received = setup.wa, setup.received
    inbound = customer_writes(setup)
    uploaded = wa.upload_media(PNG, mime_type="image/png", filename="photo.png")
    sent = {
        "text": wa.send_message(CUSTOMER, "Your order has shipped: https://example.com/t/1", preview_url=True),
        "reply": wa.send_message(CUSTOMER, "Replying to you", reply_to_message_id=inbound.id),
        "image by link": wa.send_image(CUSTOMER, "https://example.com/photo.png", caption="A photo"),
        "image by id": wa.send_image(CUSTOMER, uploaded.id, caption="Uploaded"),
        "audio": wa.send_audio(CUSTOMER, "https://example.com/voice.ogg"),
        "video": wa.send_video(CUSTOMER, "https://example.com/clip.mp4", caption="A clip"),
        "document": wa.send_document(
            CUSTOMER, "https://example.com/invoice.pdf", filename="invoice.pdf", caption="Invoice"
        ),
        "sticker": wa.send_sticker(CUSTOMER, "https://example.com/sticker.webp"),
        "location": wa.send_location(CUSTOMER, 37.4847, -122.1486, name="Meta HQ", address="1 Hacker Way"),
        "contact": wa.send_contact(
            CUSTOMER,
            Contact(
                name=Contact.Name(formatted_name="Barbara J. Johnson", first_name="Barbara"),
                phones=[Contact.Phone(phone="+1 (940) 555-1234", type="HOME")],
                emails=[Contact.Email(email="bjohnson@luckyshrub.com", type="WORK")],
            ),
        ),
        "buttons": wa.send_message(
            CUSTOMER,
            "Keep the appointment?",
            header="Reminder",
            footer="Lucky Shrub",
            buttons=[Button("Yes", "keep"), Button("No", "cancel")],
        ),
        "section list": wa.send_message(
            CUSTOMER,
            "Which shipping option?",
            buttons=SectionList(
                "Options",
                sections=[
                    Section(
                        "Fast",
                        rows=[
                            SectionRow("Express", "express", description="Next day"),
                            SectionRow("Priority", "priority"),
                        ],
                    )
                ],
            ),
        ),
        "url button": wa.send_message(CUSTOMER, "See the dates", buttons=URLButton("See Dates", "https://example.com")),
        "flow button": wa.send_message(
            CUSTOMER,
            "Book a table",
            buttons=FlowButton("Book!", flow_id="1197715005513101", flow_action_screen="BOOKING"),
        ),
        "location request": wa.request_location(CUSTOMER, "Where should we pick you up?"),
        "template": wa.send_template(CUSTOMER, name="hello_world", language=TemplateLanguage.ENGLISH_US),
    }
    reaction = wa.send_reaction(CUSTOMER, "👍", inbound.id)
    for name, message in sent.items():
        assert message.id.startswith("wamid."), name
        assert message.input == CUSTOMER, name

    assert wa.mark_message_as_read(inbound.id).success
    assert wa.indicate_typing(inbound.id).success

    received.wait_for(lambda: all(len(received.statuses_of(m.id)) == 3 for m in sent.values()))
    received.wait_for(lambda: len(received.statuses_of(reaction.id)) == 1)
    # pywa runs handlers after answering 200, so two webhooks of one message may reach handlers in either order
    # (Meta does not promise order either); the sandbox's own delivery order is checked in test_window_stateful.
    for name, message in sent.items():
        assert sorted(received.statuses_of(message.id)) == sorted(
            [MessageStatusType.SENT, MessageStatusType.DELIVERED, MessageStatusType.READ]
        ), name
    # Reactions get `sent` only (META-REACT).
    assert received.statuses_of(reaction.id) == [MessageStatusType.SENT]

    text_statuses = [s for s in received.statuses if s.id == sent["text"].id]
    by_status = {status.status: status for status in text_statuses}
    first = by_status[MessageStatusType.SENT]
    assert first.pricing is not None and first.pricing.billable is False
    assert first.conversation is not None and first.conversation.expiration is not None
    assert by_status[MessageStatusType.DELIVERED].pricing is not None
    assert by_status[MessageStatusType.READ].pricing is None
    assert all(status.error is None for status in received.statuses)
    assert all(status.from_user.wa_id == CUSTOMER for status in received.statuses)

    template_sent = next(
        s for s in received.statuses if s.id == sent["template"].id and s.status == MessageStatusType.SENT
    )
    assert template_sent.pricing is not None and template_sent.pricing.category.value == "utility"
    # pywa logs a warning for any update it could not verify or parse.
    assert [r.getMessage() for r in caplog.records if r.name.startswith("pywa") and r.levelno >= logging.WARNING] == []


def test_pywa_sees_a_failed_status_outside_the_window(setup: Setup) -> None:
    message = setup.wa.send_message("447700900123", "Hello, stranger")
    setup.received.wait_for(lambda: setup.received.statuses_of(message.id) != [])
    [failed] = [s for s in setup.received.statuses if s.id == message.id]
    assert failed.status == MessageStatusType.FAILED
    assert isinstance(failed.error, errors.ReEngagementMessage)
    assert failed.error.code == 131047


def test_pywa_media_round_trip(setup: Setup, tmp_path: Path) -> None:
    wa = setup.wa
    uploaded = wa.upload_media(PNG, mime_type="image/png", filename="photo.png")
    url = wa.get_media_url(uploaded.id)
    assert url.mime_type == "image/png" and url.file_size == len(PNG)
    assert wa.get_media_bytes(url.url) == PNG
    path = wa.download_media(url=url.url, path=tmp_path, filename="copy.png")
    assert path.read_bytes() == PNG
    assert wa.delete_media(uploaded.id).success


def test_pywa_reads_phone_numbers_and_templates(setup: Setup) -> None:
    wa, document = setup.wa, setup.document
    phone = wa.get_business_phone_number()
    assert phone.id == document["phone_number_id"]
    assert phone.verified_name and phone.display_phone_number.startswith("+1 ")
    numbers = wa.get_business_phone_numbers()
    assert [number.id for number in numbers] == [document["phone_number_id"]]
    templates = wa.get_templates()
    assert [template.name for template in templates] == ["hello_world"]
    assert templates.total_count == 1


def test_pywa_raises_typed_errors(setup: Setup) -> None:
    with pytest.raises(errors.TemplateNotExists) as caught:
        setup.wa.send_template(CUSTOMER, name="no_such_template", language=TemplateLanguage.ENGLISH_US)
    assert caught.value.code == 132001
    assert caught.value.fbtrace_id
    assert caught.value.details == "template name (no_such_template) does not exist in en_US"


def test_pywa_reads_and_updates_the_business_profile_and_settings(setup: Setup) -> None:
    from pywa.types import Industry
    from pywa.types.calls import CallingSettings, CallingSettingsStatus

    wa = setup.wa
    profile = wa.get_business_profile()
    assert profile.about and profile.email and profile.industry is not Industry.UNKNOWN
    assert wa.update_business_profile(about="Open 9-5", industry=Industry.RETAIL, websites=["https://a.example"])
    profile = wa.get_business_profile()
    assert profile.about == "Open 9-5" and profile.industry is Industry.RETAIL
    assert profile.websites == ("https://a.example",)
    with pytest.raises(errors.WhatsAppError):
        wa.update_business_profile(about="x" * 140)
    settings = wa.get_business_phone_number_settings()
    assert settings.calling is not None and settings.calling.status is CallingSettingsStatus.DISABLED
    assert wa.update_business_phone_number_settings(calling=CallingSettings(status=CallingSettingsStatus.ENABLED))
    assert wa.get_business_phone_number_settings().calling.status is CallingSettingsStatus.ENABLED


def test_pywa_creates_lists_and_hears_the_review_of_templates(setup: Setup) -> None:
    from pywa.types import templates as t

    updates: list[t.TemplateStatusUpdate] = []
    condition = threading.Condition()

    def on_update(_: WhatsApp, update: t.TemplateStatusUpdate) -> None:
        with condition:
            updates.append(update)
            condition.notify_all()

    wa = setup.wa
    wa.add_handlers(handlers.TemplateStatusUpdateHandler(on_update))
    created = wa.create_template(
        template=t.Template(
            name="seasonal_promotion",
            category=t.TemplateCategory.MARKETING,
            language=t.TemplateLanguage.ENGLISH_US,
            parameter_format=t.ParamFormat.NAMED,
            components=[
                t.HeaderText(text="Our {{sale_name}} is on!", sale_name="Summer Sale"),
                t.BodyText(
                    text="Shop now through {{end_date}} and use code {{discount_code}} to get 25% off.",
                    end_date="the end of August",
                    discount_code="25OFF",
                ),
                t.FooterText(text="Use the buttons below to manage your subscriptions"),
                t.Buttons(buttons=[t.QuickReplyButton(text="Unsubscribe"), t.QuickReplyButton(text="Stop all")]),
            ],
        )
    )
    assert created.status == t.TemplateStatus.PENDING and created.category == t.TemplateCategory.MARKETING
    listed = wa.get_templates(statuses=[t.TemplateStatus.PENDING])
    assert [template.name for template in listed] == ["seasonal_promotion"]
    with pytest.raises(errors.WhatsAppError):
        wa.create_template(
            template=t.Template(
                name="seasonal_promotion",
                category=t.TemplateCategory.MARKETING,
                language=t.TemplateLanguage.ENGLISH_US,
                components=[t.BodyText(text="Another body")],
            )
        )
    advanced = httpx.post(f"{setup.sandbox_url}/_sandbox/tenants/pywa/clock/advance", json={"seconds": 86_400})
    assert advanced.status_code == 200, advanced.text
    with condition:
        assert condition.wait_for(lambda: updates, timeout=WAIT), "pywa heard no template status update"
    assert updates[0].template_id == created.id and updates[0].new_status == t.TemplateStatus.APPROVED
    authentication = wa.upsert_authentication_template(
        name="login_code",
        languages=[t.TemplateLanguage.ENGLISH_US, t.TemplateLanguage.SPANISH],
        otp_button=t.CopyCodeOTPButton(),
        add_security_recommendation=True,
        code_expiration_minutes=5,
    )
    assert {template.status for template in authentication} == {t.TemplateStatus.PENDING}


def test_pywa_sends_a_template_with_parameters_and_unpauses_it(setup: Setup) -> None:
    from pywa.types import templates as t

    wa = setup.wa
    created = wa.create_template(
        template=t.Template(
            name="order_shipped",
            category=t.TemplateCategory.UTILITY,
            language=t.TemplateLanguage.ENGLISH_US,
            parameter_format=t.ParamFormat.NAMED,
            components=[
                t.HeaderText(text="Order {{order_id}}", order_id="#42"),
                t.BodyText(text="Hi {{first_name}}, your order shipped today.", first_name="Ana"),
                t.Buttons(buttons=[t.QuickReplyButton(text="Thanks")]),
            ],
        )
    )
    decided = httpx.post(
        f"{setup.sandbox_url}/_sandbox/tenants/pywa/reviews",
        json={"kind": "template", "target": created.id, "decision": "APPROVED"},
    )
    assert decided.status_code == 200, decided.text
    params = [t.HeaderText.params(order_id="#42"), t.BodyText.params(first_name="Ana")]
    sent = wa.send_template(to=CUSTOMER, name="order_shipped", language=t.TemplateLanguage.ENGLISH_US, params=params)
    assert sent.id.startswith("wamid.")
    with pytest.raises(errors.TemplateParamCountMismatch):
        wa.send_template(to=CUSTOMER, name="order_shipped", language=t.TemplateLanguage.ENGLISH_US, params=params[1:])
    forced = httpx.put(
        f"{setup.sandbox_url}/_sandbox/tenants/pywa/templates/{created.id}/quality", json={"score": "RED"}
    )
    assert forced.status_code == 200 and forced.json()["status"] == "PAUSED", forced.text
    with pytest.raises(errors.TemplatePaused):
        wa.send_template(to=CUSTOMER, name="order_shipped", language=t.TemplateLanguage.ENGLISH_US, params=params)
    assert wa.unpause_template(template_id=created.id).success is True
    refused = wa.unpause_template(template_id=created.id)
    assert refused.success is False and refused.reason
    assert wa.get_template(template_id=created.id).status == t.TemplateStatus.APPROVED
    assert wa.send_template(to=CUSTOMER, name="order_shipped", language=t.TemplateLanguage.ENGLISH_US, params=params)


def test_pywa_blocks_lists_and_unblocks_a_customer(setup: Setup) -> None:
    """pywa's block_users / get_blocked_users / unblock_users, and the 130403 a block puts on sending."""
    customer_writes(setup)
    wa = setup.wa
    blocked = wa.block_users([CUSTOMER, "16505550000"])
    assert [user.wa_id for user in blocked.added_users] == [CUSTOMER]
    assert [failure.input for failure in blocked.failed_users] == ["16505550000"]
    assert blocked.errors is not None and blocked.errors.code == 139100
    assert [user.wa_id for user in wa.get_blocked_users()] == [CUSTOMER]
    with pytest.raises(errors.WhatsAppError) as caught:
        wa.send_message(CUSTOMER, "Still there?")
    assert caught.value.code == 130403
    assert [user.wa_id for user in wa.unblock_users([CUSTOMER]).removed_users] == [CUSTOMER]
    assert list(wa.get_blocked_users()) == []
    assert wa.send_message(CUSTOMER, "Welcome back").id.startswith("wamid.")
