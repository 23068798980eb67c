"""Sending a template (`POST /{phone-number-id}/messages` with `type: template`): the template the message names,
checked as Meta checks it (domain/template_send.py), and the failures Meta reports only by webhook.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import phonenumbers

from sandbox.context import Tenant
from sandbox.domain import template_send
from sandbox.domain.phone_number import PhoneNumber
from sandbox.domain.template import MessageTemplate, TemplateCategory
from sandbox.errors import GraphError, GraphErrorCode
from sandbox.services.message_templates import find_template

# §4.12: WhatsApp stops delivering marketing templates to US numbers from this day.
US_MARKETING_FROM = datetime(2025, 4, 1, tzinfo=UTC)


def sendable_template(tenant: Tenant, phone: PhoneNumber, content: dict[str, Any]) -> MessageTemplate:
    """The approved template a `template` message names (by name and language on the number's WABA), its
    parameters checked against its components; Meta's 1320xx refusal otherwise."""
    name = str(content.get("name", ""))
    language = content.get("language") or {}
    code = str(language.get("code", "")) if isinstance(language, dict) else ""
    try:
        template = template_send.check_status(find_template(tenant, phone.waba_id, name, code), name, code)
        template_send.check_send(template, content.get("components"))
    except template_send.SendRefused as refused:
        raise GraphError(GraphErrorCode(refused.code), refused.details) from refused
    return template


def webhook_failure(template: MessageTemplate, wa_id: str, now: datetime) -> tuple[GraphErrorCode, str] | None:
    """What Meta accepts and then fails by the `failed` status: a marketing template to a US number from
    2025-04-01 (131049, SEED-TEMPLATE-9); Canada and the other +1 regions still receive them."""
    if template.category != TemplateCategory.MARKETING or now < US_MARKETING_FROM or not wa_id.startswith("1"):
        return None
    if not is_us_number(wa_id):
        return None
    return GraphErrorCode.HEALTHY_ECOSYSTEM, GraphErrorCode.HEALTHY_ECOSYSTEM.description


def is_us_number(wa_id: str) -> bool:
    try:
        number = phonenumbers.parse("+" + wa_id)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.region_code_for_number(number) == "US"
