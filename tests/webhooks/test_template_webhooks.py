"""The template lifecycle's moves rendered as Meta shapes `message_template_status_update` (§4.9): the review's
events with their category, PAUSED with `other_info`, DISABLED with `disable_info`, deletion with `reason: null`."""

from __future__ import annotations

from sandbox.context import Tenant
from sandbox.domain.template import TEMPLATE_LIFECYCLE, MessageTemplate
from sandbox.webhooks.dispatch import render


def _template(tenant: Tenant, status: str) -> MessageTemplate:
    template = MessageTemplate("1689556908129832", tenant.waba_id, "order_confirmation", "en_US", "UTILITY", [])
    template.status = status
    return template


def _values(tenant: Tenant, template: MessageTemplate, trigger: str, *args: object) -> list[dict[str, object]]:
    TEMPLATE_LIFECYCLE.fire(template, trigger, tenant.clock.now(), *args)
    values = []
    for event in template.drain_events():
        rendered = render(tenant, event)
        assert rendered is not None and rendered.field == "message_template_status_update"
        values.append(rendered.value)
    return values


def test_the_review_s_decisions_carry_the_category(tenant: Tenant) -> None:
    template = _template(tenant, "PENDING")
    assert _values(tenant, template, "approve") == [
        {
            "event": "APPROVED",
            "message_template_id": 1689556908129832,
            "message_template_name": "order_confirmation",
            "message_template_language": "en_US",
            "reason": "NONE",
            "message_template_category": "UTILITY",
        }
    ]


def test_pausing_and_disabling_carry_their_info(tenant: Tenant) -> None:
    template = _template(tenant, "APPROVED")
    info = {"title": "FIRST_PAUSE", "description": "Paused for 3 hours."}
    [paused] = _values(tenant, template, "pause", "NONE", info)
    assert paused["event"] == "PAUSED" and paused["other_info"] == info and "message_template_category" not in paused
    [disabled] = _values(tenant, template, "disable", "NONE", None, {"disable_date": 1751234563})
    assert disabled["event"] == "DISABLED" and disabled["disable_info"] == {"disable_date": 1751234563}
    [reinstated] = _values(tenant, template, "reinstate")
    assert reinstated["event"] == "REINSTATED" and template.status == "APPROVED"


def test_deletion_events_have_a_null_reason_and_block_the_name(tenant: Tenant) -> None:
    template = _template(tenant, "APPROVED")
    [scheduled] = _values(tenant, template, "schedule_deletion")
    assert scheduled["event"] == "PENDING_DELETION" and scheduled["reason"] is None
    assert template.deleted_at == tenant.clock.now()
    [deleted] = _values(tenant, template, "finish_deletion")
    assert deleted["event"] == "DELETED" and deleted["reason"] is None
