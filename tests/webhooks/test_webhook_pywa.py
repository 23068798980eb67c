"""Done-means: a published client library's own webhook handler verifies and parses every field we send.

pywa 4.5.0 gets the exact bytes and headers the outbox would POST: `webhook_update_validator` must accept the
signature, `webhook_update_handler` must answer 200, the typed handler for the field must fire (pywa types ten
fields; the rest reach its raw-update handler), and pywa must log no parse failure.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pywa import WhatsApp, handlers

from sandbox.context import Tenant
from sandbox.domain.commands import ReceiveMessage
from sandbox.domain.events import AccountEvent
from sandbox.services.messaging import receive_message
from sandbox.webhooks.outbox import Delivery

CUSTOMER = "16505551234"

INBOUND: dict[str, tuple[Any, type[handlers.Handler]]] = {
    "text": ({"body": "Does it come in another color?"}, handlers.MessageHandler),
    "image": ({"caption": "Taj Mahal"}, handlers.MessageHandler),
    "video": ({"caption": "caption"}, handlers.MessageHandler),
    "document": ({"caption": "caption", "filename": "filename.pdf"}, handlers.MessageHandler),
    "audio": ({"voice": True}, handlers.MessageHandler),
    "sticker": ({"animated": False}, handlers.MessageHandler),
    "location": (
        {
            "latitude": 37.4611978,
            "longitude": -122.2164385,
            "name": "Facebook HQ",
            "address": "1 Hacker Way, Menlo Park, CA 94025",
        },
        handlers.MessageHandler,
    ),
    "contacts": (
        [
            {
                "name": {"first_name": "Chandler", "last_name": "Bing", "formatted_name": "Chandler Bing"},
                "phones": [{"phone": "+1 555-555-5555", "wa_id": "15555555555", "type": "CELL"}],
            }
        ],
        handlers.MessageHandler,
    ),
    "reaction": ({"message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI=", "emoji": "\U0001f62e"}, handlers.MessageHandler),
    "button": ({"payload": "callback_data", "text": "title"}, handlers.CallbackButtonHandler),
    "interactive_button": (
        {"type": "button_reply", "button_reply": {"id": "cancel-button", "title": "Cancel"}},
        handlers.CallbackButtonHandler,
    ),
    "interactive_list": (
        {
            "type": "list_reply",
            "list_reply": {
                "id": "priority_express",
                "title": "Priority Mail Express",
                "description": "Next Day to 2 Days",
            },
        },
        handlers.CallbackSelectionHandler,
    ),
    "interactive_flow": (
        {
            "type": "nfm_reply",
            "nfm_reply": {
                "response_json": '{"flow_token":"AQAAAAACS5FpgQ_cAAAAAD0QI3s.","delivery_rating":"4"}',
                "body": "Sent",
                "name": "flow",
            },
        },
        handlers.FlowCompletionHandler,
    ),
    "order": (
        {
            "catalog_id": "354160437058781",
            "text": "",
            "product_items": [{"product_retailer_id": "HAMBURGER", "quantity": 3, "item_price": 30, "currency": "ILS"}],
        },
        handlers.MessageHandler,
    ),
    "system": (
        {
            "body": "User A changed from 16505551234 to 16505559999",
            "wa_id": "16505559999",
            "type": "user_changed_number",
        },
        handlers.PhoneNumberChangeHandler,
    ),
    "system_identity": (
        {
            "body": "User identity changed",
            "type": "customer_identity_changed",
            "identity": {"acknowledged": True, "created_timestamp": "1697044706", "hash": "xyzxyz"},
        },
        handlers.IdentityChangeHandler,
    ),
    "unsupported": ({"type": "poll"}, handlers.MessageHandler),
    "request_welcome": ({}, handlers.MessageHandler),
    "text_with_referral": (
        {
            "body": "Hi from an ad",
            "referral": {
                "source_url": "https://fb.me/3cr4Wqqkv",
                "source_id": "120226305854810726",
                "source_type": "ad",
                "body": "Summer Succulents are here!",
                "headline": "Chat with us",
                "media_type": "image",
                "image_url": "https://scontent.xx.fbcdn.net/v/t45.1",
                "ctwa_clid": "Aff-n8ZTODiE79d22KtAwQKj9e_mIEOOj27v",
            },
        },
        handlers.MessageHandler,
    ),
}

REPLIES = frozenset({"button", "interactive"})

TYPED_ACCOUNT_FIELDS: dict[str, type[handlers.Handler]] = {
    "message_template_status_update": handlers.TemplateStatusUpdateHandler,
    "message_template_quality_update": handlers.TemplateQualityUpdateHandler,
    "template_category_update": handlers.TemplateCategoryUpdateHandler,
    "message_template_components_update": handlers.TemplateComponentsUpdateHandler,
    "account_update": handlers.AccountUpdateHandler,
}


class PywaReceiver:
    def __init__(self, tenant: Tenant) -> None:
        self.wa = WhatsApp(
            phone_id=tenant.document()["phone_number_id"],
            token="unused",
            server=None,
            verify_token=tenant.webhook.verify_token,
            app_secret=tenant.credentials.app_secret,
            validate_updates=True,
            filter_updates=False,
        )
        self.fired: list[tuple[type[handlers.Handler], Any]] = []
        for handler_type in {
            *TYPED_ACCOUNT_FIELDS.values(),
            *(h for _, h in INBOUND.values()),
            handlers.MessageStatusHandler,
            handlers.RawUpdateHandler,
        }:
            self.wa.add_handlers(handler_type(self._recorder(handler_type)))

    def _recorder(self, handler_type: type[handlers.Handler]) -> Any:
        def record(_: WhatsApp, update: Any) -> None:
            self.fired.append((handler_type, update))

        return record

    def receive(self, delivery: Delivery) -> tuple[type[handlers.Handler], Any]:
        self.fired.clear()
        assert self.wa.webhook_update_validator(delivery.body, delivery.headers["X-Hub-Signature-256"]) is None
        assert self.wa.webhook_update_handler(delivery.body) == ("ok", 200)
        typed = [item for item in self.fired if item[0] is not handlers.RawUpdateHandler]
        raw = [item for item in self.fired if item[0] is handlers.RawUpdateHandler]
        assert len(raw) == 1
        return typed[0] if typed else raw[0]


@pytest.fixture
def pywa(tenant: Tenant, caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.WARNING, logger="pywa")
    yield PywaReceiver(tenant)
    problems = [
        r.getMessage() for r in caplog.get_records("call") if r.name.startswith("pywa") and r.levelno >= logging.WARNING
    ]
    assert problems == []


def _last_delivery(tenant: Tenant) -> Delivery:
    return tenant.outbox.log(tenant.id)[-1]


@pytest.mark.parametrize("kind", sorted(INBOUND))
def test_pywa_parses_every_inbound_message_type(tenant: Tenant, pywa: PywaReceiver, kind: str) -> None:
    content, expected = INBOUND[kind]
    message_type = kind if kind == "request_welcome" else kind.split("_")[0]
    # Taps on buttons, lists and flows always quote the business message they answer (META-WH-INTERACTIVE).
    context = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MEM2RUJFNkI0RENGQTVDRjUA" if message_type in REPLIES else None
    message = receive_message(
        tenant,
        ReceiveMessage(CUSTOMER, message_type, content, context_message_id=context, profile_name="Sheena Nelson"),
    )
    handler_type, update = pywa.receive(_last_delivery(tenant))
    assert handler_type is expected
    if handler_type is handlers.MessageHandler:
        assert update.id == message.wamid
        assert update.type == message_type
        assert update.from_user.wa_id == CUSTOMER


def test_pywa_parses_every_status_with_pricing_and_errors(
    tenant: Tenant, pywa: PywaReceiver, send_text, inbound
) -> None:
    failed = send_text(tenant, CUSTOMER)  # outside the window: failed with 131047
    inbound(tenant, CUSTOMER)
    ok = send_text(tenant, CUSTOMER)
    statuses = []
    for delivery in tenant.outbox.log(tenant.id):
        if delivery.summary.startswith("status"):
            handler_type, update = pywa.receive(delivery)
            assert handler_type is handlers.MessageStatusHandler
            statuses.append((update.id, str(update.status.value)))
            if update.id == failed.wamid:
                assert update.error is not None and update.error.code == 131047
            elif str(update.status.value) == "sent":
                assert update.pricing is not None
                assert update.conversation is not None
    assert statuses == [(failed.wamid, "failed"), (ok.wamid, "sent"), (ok.wamid, "delivered"), (ok.wamid, "read")]


@pytest.mark.parametrize(
    "field",
    sorted(
        [
            "message_template_status_update",
            "message_template_quality_update",
            "template_category_update",
            "message_template_components_update",
            "phone_number_name_update",
            "phone_number_quality_update",
            "account_update",
            "account_review_update",
            "business_capability_update",
            "security",
            "account_alerts",
        ]
    ),
)
def test_pywa_verifies_and_parses_every_account_field(
    tenant: Tenant, pywa: PywaReceiver, account_events: dict[str, list[AccountEvent]], field: str
) -> None:
    for event in account_events[field]:
        tenant.publish([event])
        handler_type, update = pywa.receive(_last_delivery(tenant))
        assert handler_type is TYPED_ACCOUNT_FIELDS.get(field, handlers.RawUpdateHandler)
        if handler_type is handlers.RawUpdateHandler:
            assert update.field == field


def test_pywa_rejects_a_chaos_signature(
    tenant: Tenant, pywa: PywaReceiver, inbound, caplog: pytest.LogCaptureFixture
) -> None:
    tenant.policy.webhooks.bad_signature_probability = 1.0
    inbound(tenant, CUSTOMER)
    delivery = _last_delivery(tenant)
    assert delivery.chaos == ("bad_signature",)
    signature = delivery.headers["X-Hub-Signature-256"]
    assert pywa.wa.webhook_update_validator(delivery.body, signature) == ("Forbidden", 403)
    assert "unmatching signature" in caplog.text
    caplog.clear()


def test_pywa_reads_a_batched_post(tenant: Tenant, pywa: PywaReceiver, send_text, inbound) -> None:
    """Meta may batch; pywa reads entry[0].changes[0] only — the sandbox reproduces what that costs."""
    tenant.policy.webhooks.batch_max = 3
    inbound(tenant, CUSTOMER)
    send_text(tenant, CUSTOMER)
    tenant.clock.advance(tenant.policy.webhooks.batch_window_seconds)
    batched = [d for d in tenant.outbox.log(tenant.id) if "batched" in d.chaos]
    assert [d.summary for d in batched] == [
        "3 changes: message text, status sent, status delivered",
        "status read",
    ][: len(batched)]
    assert len(batched) == 1
    assert tenant.outbox.log(tenant.id)[-1].summary == "status read"
    handler_type, _ = pywa.receive(batched[0])
    assert handler_type is handlers.MessageHandler
