"""One renderer per field, checked against the example payloads of meta-lifecycle.md / meta-messaging.md:
the same keys with the same value types, in Meta's envelope."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from sandbox.context import Tenant
from sandbox.domain.events import ACCOUNT_EVENTS, AccountEvent, AccountReviewDecided, TemplateStatusChanged
from sandbox.webhooks import fields
from sandbox.webhooks.dispatch import render
from sandbox.webhooks.payloads import payload

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

# `value` objects copied from the spec's examples (meta-lifecycle.md §2.8, §2.9, §3.3–§3.5, §3.7, §4.7–§4.9).
SPEC_VALUES: dict[str, list[dict[str, Any]]] = {
    "message_template_status_update": [
        {
            "event": "APPROVED",
            "message_template_id": 1689556908129832,
            "message_template_name": "order_confirmation",
            "message_template_language": "en-US",
            "reason": "NONE",
            "message_template_category": "UTILITY",
        },
        {
            "event": "REJECTED",
            "message_template_id": 1689556908129835,
            "message_template_name": "abandoned_cart",
            "message_template_language": "en",
            "reason": "INVALID_FORMAT",
            "message_template_category": "MARKETING",
            "rejection_info": {
                "reason": "Your template has parameters placed next to each other.",
                "recommendation": "Separate parameters with descriptive text.",
            },
        },
        {
            "event": "PAUSED",
            "message_template_id": 1054555,
            "message_template_name": "testing_template",
            "message_template_language": "en",
            "reason": "NONE",
            "other_info": {"title": "SECOND_PAUSE", "description": "Your WhatsApp message template has been paused."},
        },
        {
            "event": "DISABLED",
            "message_template_id": 1054555,
            "message_template_name": "testing_template",
            "message_template_language": "en",
            "reason": "NONE",
            "disable_info": {"disable_date": 1751234563},
        },
    ],
    "message_template_quality_update": [
        {
            "previous_quality_score": "GREEN",
            "new_quality_score": "YELLOW",
            "message_template_id": 806312974732579,
            "message_template_name": "welcome_template",
            "message_template_language": "en-US",
        },
    ],
    "message_template_components_update": [
        {
            "message_template_id": 1315502779341834,
            "message_template_name": "order_confirmation",
            "message_template_language": "en_US",
            "message_template_title": "Your order is confirmed!",
            "message_template_element": "Thank you for your order, {{1}}! Your order number is {{2}}.",
            "message_template_footer": "Lucky Shrub: the Succulent Specialists!",
            "message_template_buttons": [
                {
                    "message_template_button_type": "PHONE_NUMBER",
                    "message_template_button_text": "Phone support",
                    "message_template_button_phone_number": "+15550783881",
                },
                {
                    "message_template_button_type": "URL",
                    "message_template_button_text": "Email support",
                    "message_template_button_url": "https://www.luckyshrub.com/support",
                },
            ],
        },
    ],
    "template_category_update": [
        {
            "message_template_id": 278077987957091,
            "message_template_name": "welcome_template",
            "message_template_language": "en-US",
            "new_category": "UTILITY",
            "correct_category": "MARKETING",
            "category_update_timestamp": 1746169200,
        },
        {
            "message_template_id": 278077987957091,
            "message_template_name": "welcome_template",
            "message_template_language": "en-US",
            "previous_category": "UTILITY",
            "new_category": "MARKETING",
        },
    ],
    "phone_number_name_update": [
        {
            "display_phone_number": "15550783881",
            "decision": "APPROVED",
            "requested_verified_name": "Lucky Shrub",
            "rejection_reason": None,
        },
    ],
    "phone_number_quality_update": [
        {
            "display_phone_number": "15550783881",
            "event": "THROUGHPUT_UPGRADE",
            "current_limit": "TIER_UNLIMITED",
            "max_daily_conversations_per_business": "TIER_UNLIMITED",
        },
        {"display_phone_number": "16505551111", "event": "FLAGGED", "current_limit": "TIER_10K"},
    ],
    "account_update": [
        {"event": "DISABLED_UPDATE", "ban_info": {"waba_ban_state": "REINSTATE", "waba_ban_date": "April 17, 2025"}},
        {
            "event": "PARTNER_ADDED",
            "waba_info": {
                "waba_id": "980198427658004",
                "owner_business_id": "2329417887457253",
                "solution_id": "1715120619246906",
                "solution_partner_business_ids": ["2949482758682047"],
            },
        },
        {"phone_number": "16505551111", "event": "ACCOUNT_VIOLATION", "violation_info": {"violation_type": "ALCOHOL"}},
    ],
    "account_review_update": [{"decision": "APPROVED"}],
    "business_capability_update": [
        {"max_daily_conversations_per_business": 2000, "max_phone_numbers_per_waba": 25},
        {
            "max_daily_conversation_per_phone": 250,
            "max_daily_conversations_per_business": "TIER_250",
            "max_phone_numbers_per_business": 2,
        },
    ],
    "security": [{"display_phone_number": "15550783881", "event": "PIN_RESET_REQUEST", "requester": "61555822107539"}],
    "account_alerts": [
        {
            "entity_type": "BUSINESS",
            "entity_id": "506914307656634",
            "alert_info": {
                "alert_severity": "WARNING",
                "alert_status": "ACTIVE",
                "alert_type": "INCREASED_CAPABILITIES_ELIGIBILITY_DEFERRED",
                "alert_description": "Limits cannot be increased for your business <BUSINESS_PORTFOLIO_NAME>. Use "
                "WhatsApp Business platform actively for several days and follow our messaging policies.",
            },
        }
    ],
}


def _types(value: dict[str, Any]) -> dict[str, type]:
    return {key: type(item) for key, item in value.items()}


def test_every_account_field_has_a_renderer_and_an_example() -> None:
    assert set(fields.account_fields()) == set(SPEC_VALUES)


def test_every_typed_account_event_is_rendered_into_a_known_field() -> None:
    assert set(fields.rendered_event_types()) == set(ACCOUNT_EVENTS)
    assert {kind.field for kind in ACCOUNT_EVENTS} == set(fields.account_fields())


@pytest.mark.sandbox_errors
def test_an_event_that_cannot_be_rendered_is_an_incident_not_a_silent_loss(tenant: Tenant) -> None:
    template = next(iter(tenant.store.templates))
    broken = copy.copy(template)
    broken.id = "not-a-number"  # `message_template_id` is an integer on the wire
    before = len(tenant.outbox.log(tenant.id))
    tenant.publish(
        [
            TemplateStatusChanged(AT, template=broken, event="APPROVED"),
            AccountReviewDecided(AT, waba_id=tenant.waba_id, decision="APPROVED"),
        ]
    )
    assert len(tenant.outbox.log(tenant.id)) == before + 1, "the next event still goes out"
    [incident] = tenant.store.incidents.newest(10)
    assert incident["kind"] == "webhook_render_failed"
    assert incident["event"] == "TemplateStatusChanged"
    assert "ValueError" in incident["error"]


@pytest.mark.parametrize("field", sorted(SPEC_VALUES))
def test_rendered_values_match_the_spec_examples(
    tenant: Tenant, account_events: dict[str, list[AccountEvent]], field: str
) -> None:
    events = account_events[field]
    assert len(events) == len(SPEC_VALUES[field])
    for event, example in zip(events, SPEC_VALUES[field], strict=True):
        rendered = render(tenant, event)
        assert rendered is not None
        assert rendered.field == field
        assert list(rendered.value) == list(example), "keys, in Meta's order"
        assert _types(rendered.value) == _types(example)


@pytest.mark.parametrize("field", sorted(SPEC_VALUES))
def test_the_envelope_of_account_fields_carries_the_waba_and_time(
    tenant: Tenant, account_events: dict[str, list[AccountEvent]], field: str
) -> None:
    rendered = render(tenant, account_events[field][0])
    assert rendered is not None
    body = payload([rendered])
    assert body == {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": tenant.waba_id, "time": int(AT.timestamp()), "changes": [{"value": rendered.value, "field": field}]}
        ],
    }


@pytest.mark.parametrize("field", sorted(SPEC_VALUES))
def test_the_spec_examples_render_unchanged(field: str) -> None:
    for example in SPEC_VALUES[field]:
        assert fields.render_account_value(field, example) == example


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("message_template_status_update", {"event": "APPROVED"}, "needs 'message_template_id'"),
        (
            "message_template_quality_update",
            {
                "previous_quality_score": "GREEN",
                "new_quality_score": "RED",
                "message_template_id": "806312974732579",
                "message_template_name": "x",
                "message_template_language": "en",
            },
            "wrong type",
        ),
        ("account_update", {"ban_info": {}}, "needs 'event'"),
        ("business_capability_update", {}, "at least one"),
        ("security", {"event": "PIN_CHANGED"}, "needs 'display_phone_number'"),
        ("no_such_field", {}, "no renderer"),
    ],
)
def test_malformed_values_are_refused(field: str, value: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        fields.render_account_value(field, value)


def test_status_pricing_follows_the_pricing_model_of_the_time(tenant: Tenant, send_text, inbound) -> None:
    """PMP from 2025-07-01 (`pricing.type`), CBP before it (no `type`, `conversation.origin`) — META-STATUS."""
    inbound(tenant, "16505551234")
    message = send_text(tenant, "16505551234")
    deliveries = [d for d in tenant.outbox.log(tenant.id) if message.wamid in d.wamids]
    sent = _status_item(deliveries[0].body)
    assert sent["pricing"] == {
        "billable": False,
        "pricing_model": "PMP",
        "type": "free_customer_service",
        "category": "service",
    }
    assert set(sent["conversation"]) == {"id", "expiration_timestamp", "origin"}
    delivered = _status_item(deliveries[1].body)
    assert set(delivered["conversation"]) == {"id", "origin"}
    read = _status_item(deliveries[2].body)
    assert "pricing" not in read and "conversation" not in read

    # The era is the message's, fixed when it is priced at send: CBP by category (as before 2025-07-01).
    tenant.policy.pricing.model = "conversation_category"
    cbp = send_text(tenant, "16505551234")
    item = _status_item(next(d for d in tenant.outbox.log(tenant.id) if cbp.wamid in d.wamids).body)
    assert item["pricing"] == {"billable": False, "pricing_model": "CBP", "category": "service"}
    assert item["conversation"]["origin"] == {"type": "service"}


def test_v24_statuses_drop_the_conversation(tenant: Tenant, send_text, inbound) -> None:
    tenant.graph_version = "v24.0"
    inbound(tenant, "16505551234")
    message = send_text(tenant, "16505551234")
    sent = _status_item(next(d for d in tenant.outbox.log(tenant.id) if message.wamid in d.wamids).body)
    assert "conversation" not in sent
    assert sent["pricing"]["pricing_model"] == "PMP"


def test_a_failed_status_carries_errors_and_no_pricing(tenant: Tenant, send_text) -> None:
    message = send_text(tenant, "16505551234")  # no open window: 131047 asynchronously
    body = next(d for d in tenant.outbox.log(tenant.id) if message.wamid in d.wamids).body
    item = _status_item(body)
    assert item["status"] == "failed"
    assert set(item) == {"id", "status", "timestamp", "recipient_id", "errors"}
    assert item["errors"][0]["code"] == 131047
    assert set(item["errors"][0]) == {"code", "title", "message", "error_data", "href"}


def _status_item(body: bytes) -> dict[str, Any]:
    import orjson

    return dict(orjson.loads(body)["entry"][0]["changes"][0]["value"]["statuses"][0])
