"""The account-side webhook fields: each typed event (sandbox/domain/events.py) rendered into its field's `value`.

`render_account_event` picks the renderer of the event's type, which builds the `value` with Meta's keys; the
shape check of the field then puts the keys in Meta's order, checks their types and drops nothing. A value that
fails the check raises `ValueError`: dispatch records it as an incident of the tenant, never as a silent loss.
Shapes: meta-lifecycle.md §2.8, §2.9, §3.3–§3.7, §4.7–§4.9.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sandbox.domain.events import (
    AccountAlertRaised,
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
from sandbox.domain.phone_number import PhoneNumber
from sandbox.domain.template import MessageTemplate

Kinds = type | tuple[type, ...]
NONE = type(None)
ValueRenderer = Callable[[Mapping[str, Any]], dict[str, Any]]

_RENDERERS: dict[str, ValueRenderer] = {}


def renderer(field: str) -> Callable[[ValueRenderer], ValueRenderer]:
    def register(function: ValueRenderer) -> ValueRenderer:
        _RENDERERS[field] = function
        return function

    return register


def account_fields() -> tuple[str, ...]:
    return tuple(_RENDERERS)


def render_account_value(field: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """`value` in Meta's shape for `field`; raises `ValueError` for an unknown field or a malformed value."""
    render = _RENDERERS.get(field)
    if render is None:
        raise ValueError(f"no renderer for webhook field {field!r}; known: {', '.join(sorted(_RENDERERS))}")
    return render(value)


def _shape(
    field: str, value: Mapping[str, Any], required: dict[str, Kinds], optional: dict[str, Kinds]
) -> dict[str, Any]:
    shaped: dict[str, Any] = {}
    for key, kinds in (required | optional).items():
        if key not in value:
            if key in required:
                raise ValueError(f"{field} webhook needs {key!r}")
            continue
        if not isinstance(value[key], kinds) or (isinstance(value[key], bool) and bool not in _as_tuple(kinds)):
            raise ValueError(f"{field}.{key} has the wrong type: {type(value[key]).__name__}")
        shaped[key] = value[key]
    for key, item in value.items():
        shaped.setdefault(key, item)
    return shaped


def _as_tuple(kinds: Kinds) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


# -- renderers, one per field ----------------------------------------------------------------------------------


@renderer("message_template_status_update")
def _template_status(value: Mapping[str, Any]) -> dict[str, Any]:
    return _shape(
        "message_template_status_update",
        value,
        {
            "event": str,
            "message_template_id": int,
            "message_template_name": str,
            "message_template_language": str,
            "reason": (str, NONE),
        },
        {"message_template_category": str, "rejection_info": dict, "other_info": dict, "disable_info": dict},
    )


@renderer("message_template_quality_update")
def _template_quality(value: Mapping[str, Any]) -> dict[str, Any]:
    return _shape(
        "message_template_quality_update",
        value,
        {
            "previous_quality_score": str,
            "new_quality_score": str,
            "message_template_id": int,
            "message_template_name": str,
            "message_template_language": str,
        },
        {},
    )


@renderer("message_template_components_update")
def _template_components(value: Mapping[str, Any]) -> dict[str, Any]:
    return _shape(
        "message_template_components_update",
        value,
        {"message_template_id": int, "message_template_name": str, "message_template_language": str},
        {
            "message_template_title": str,
            "message_template_element": str,
            "message_template_footer": str,
            "message_template_buttons": list,
        },
    )


@renderer("template_category_update")
def _template_category(value: Mapping[str, Any]) -> dict[str, Any]:
    return _shape(
        "template_category_update",
        value,
        {"message_template_id": int, "message_template_name": str, "message_template_language": str},
        {"previous_category": str, "new_category": str, "correct_category": str, "category_update_timestamp": int},
    )


@renderer("phone_number_name_update")
def _phone_number_name(value: Mapping[str, Any]) -> dict[str, Any]:
    return _shape(
        "phone_number_name_update",
        value,
        {"display_phone_number": str, "decision": str, "requested_verified_name": str, "rejection_reason": (str, NONE)},
        {},
    )


@renderer("phone_number_quality_update")
def _phone_number_quality(value: Mapping[str, Any]) -> dict[str, Any]:
    return _shape(
        "phone_number_quality_update",
        value,
        {"display_phone_number": str, "event": str},
        {"current_limit": str, "old_limit": str, "max_daily_conversations_per_business": (str, int)},
    )


@renderer("account_update")
def _account_update(value: Mapping[str, Any]) -> dict[str, Any]:
    return _shape(
        "account_update",
        value,
        {},
        {
            "phone_number": str,
            "event": str,
            "violation_info": dict,
            "restriction_info": list,
            "ban_info": dict,
            "waba_info": dict,
            "disconnection_info": dict,
            "auth_international_rate_eligibility": dict,
            "country": str,
            "volume_tier_info": dict,
        },
    ) | _require("account_update", value, "event")


@renderer("account_review_update")
def _account_review(value: Mapping[str, Any]) -> dict[str, Any]:
    return _shape("account_review_update", value, {"decision": str}, {})


@renderer("business_capability_update")
def _business_capability(value: Mapping[str, Any]) -> dict[str, Any]:
    shaped = _shape(
        "business_capability_update",
        value,
        {},
        {
            "max_daily_conversation_per_phone": int,
            "max_daily_conversations_per_business": (int, str),
            "max_phone_numbers_per_business": int,
            "max_phone_numbers_per_waba": int,
        },
    )
    if not shaped:
        raise ValueError("business_capability_update webhook needs at least one capability")
    return shaped


@renderer("account_alerts")
def _account_alerts(value: Mapping[str, Any]) -> dict[str, Any]:
    shaped = _shape("account_alerts", value, {"entity_type": str, "entity_id": str, "alert_info": dict}, {})
    _shape(
        "account_alerts.alert_info",
        shaped["alert_info"],
        {"alert_severity": str, "alert_status": str, "alert_type": str, "alert_description": str},
        {},
    )
    return shaped


@renderer("security")
def _security(value: Mapping[str, Any]) -> dict[str, Any]:
    return _shape("security", value, {"display_phone_number": str, "event": str}, {"requester": str})


def _require(field: str, value: Mapping[str, Any], key: str) -> dict[str, Any]:
    if not isinstance(value.get(key), str):
        raise ValueError(f"{field} webhook needs {key!r}")
    return {}


# -- the typed events, one renderer per type ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountChange:
    """One account-side change: where it goes (`waba_id`, the number it concerns), its lane and its `value`."""

    field: str
    waba_id: str
    phone_number_id: str | None
    ordering_key: str
    value: dict[str, Any]


E = TypeVar("E", bound=AccountEvent)
EventRenderer = Callable[[Any], AccountChange]
_EVENT_RENDERERS: dict[type[AccountEvent], EventRenderer] = {}


def renders(kind: type[E]) -> Callable[[Callable[[E], AccountChange]], Callable[[E], AccountChange]]:
    def register(function: Callable[[E], AccountChange]) -> Callable[[E], AccountChange]:
        _EVENT_RENDERERS[kind] = function
        return function

    return register


def rendered_event_types() -> tuple[type[AccountEvent], ...]:
    return tuple(_EVENT_RENDERERS)


def render_account_event(event: AccountEvent) -> AccountChange:
    """The change `event` stands for, in Meta's shape; raises `ValueError` for a type with no renderer or a value
    that fails its field's shape check."""
    render = _EVENT_RENDERERS.get(type(event))
    if render is None:
        raise ValueError(f"no renderer for {type(event).__name__}")
    change = render(event)
    return AccountChange(
        change.field,
        change.waba_id,
        change.phone_number_id,
        change.ordering_key,
        render_account_value(change.field, change.value),
    )


def _present(**items: Any) -> dict[str, Any]:
    return {key: item for key, item in items.items() if item is not None}


def _template_change(event: AccountEvent, template: MessageTemplate, value: dict[str, Any]) -> AccountChange:
    return AccountChange(event.field, template.waba_id, None, f"template:{template.id}", value)


def _phone_change(event: AccountEvent, phone: PhoneNumber, value: dict[str, Any]) -> AccountChange:
    return AccountChange(event.field, phone.waba_id, phone.id, f"phone:{phone.id}", value)


def _template_keys(template: MessageTemplate) -> dict[str, Any]:
    return {
        "message_template_id": int(template.id),
        "message_template_name": template.name,
        "message_template_language": template.language,
    }


# Meta's PAUSED and DISABLED examples carry no `message_template_category` (§4.9).
_NO_CATEGORY_EVENTS = frozenset({"PAUSED", "DISABLED"})


@renders(TemplateStatusChanged)
def _template_status_changed(event: TemplateStatusChanged) -> AccountChange:
    template = event.template
    value: dict[str, Any] = {"event": event.event, **_template_keys(template), "reason": event.reason}
    if event.event not in _NO_CATEGORY_EVENTS:
        value["message_template_category"] = template.category
    value |= _present(rejection_info=event.rejection_info, other_info=event.other_info, disable_info=event.disable_info)
    return _template_change(event, template, value)


@renders(TemplateQualityChanged)
def _template_quality_changed(event: TemplateQualityChanged) -> AccountChange:
    value = {
        "previous_quality_score": event.previous,
        "new_quality_score": event.new,
        **_template_keys(event.template),
    }
    return _template_change(event, event.template, value)


@renders(TemplateCategoryChanged)
def _template_category_changed(event: TemplateCategoryChanged) -> AccountChange:
    value = _template_keys(event.template) | _present(
        previous_category=event.previous_category,
        new_category=event.new_category,
        correct_category=event.correct_category,
        category_update_timestamp=event.category_update_timestamp,
    )
    return _template_change(event, event.template, value)


@renders(DisplayNameDecided)
def _display_name_decided(event: DisplayNameDecided) -> AccountChange:
    value = {
        "display_phone_number": event.phone.display_phone_number,
        "decision": event.decision,
        "requested_verified_name": event.requested_verified_name,
        "rejection_reason": event.rejection_reason,
    }
    return _phone_change(event, event.phone, value)


@renders(PhoneNumberQualityChanged)
def _phone_number_quality_changed(event: PhoneNumberQualityChanged) -> AccountChange:
    value = {"display_phone_number": event.phone.display_phone_number, "event": event.event} | _present(
        current_limit=event.current_limit,
        old_limit=event.old_limit,
        max_daily_conversations_per_business=event.max_daily_conversations_per_business,
    )
    return _phone_change(event, event.phone, value)


@renders(AccountUpdated)
def _account_updated(event: AccountUpdated) -> AccountChange:
    phone = event.phone
    value = _present(phone_number=phone.display_phone_number if phone else None, event=event.event) | _present(
        violation_info=event.violation_info,
        restriction_info=event.restriction_info,
        ban_info=event.ban_info,
        waba_info=event.waba_info,
        disconnection_info=event.disconnection_info,
        volume_tier_info=event.volume_tier_info,
        auth_international_rate_eligibility=event.auth_international_rate_eligibility,
        country=event.country,
    )
    if phone is not None:
        return AccountChange(event.field, event.waba_id, phone.id, f"phone:{phone.id}", value)
    return AccountChange(event.field, event.waba_id, None, f"waba:{event.waba_id}", value)


@renders(AccountReviewDecided)
def _account_review_decided(event: AccountReviewDecided) -> AccountChange:
    return AccountChange(event.field, event.waba_id, None, f"waba:{event.waba_id}", {"decision": event.decision})


@renders(BusinessCapabilityChanged)
def _business_capability_changed(event: BusinessCapabilityChanged) -> AccountChange:
    value = _present(
        max_daily_conversation_per_phone=event.max_daily_conversation_per_phone,
        max_daily_conversations_per_business=event.max_daily_conversations_per_business,
        max_phone_numbers_per_business=event.max_phone_numbers_per_business,
        max_phone_numbers_per_waba=event.max_phone_numbers_per_waba,
    )
    return AccountChange(event.field, event.waba_id, None, f"waba:{event.waba_id}", value)


@renders(AccountAlertRaised)
def _account_alert_raised(event: AccountAlertRaised) -> AccountChange:
    value = {
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "alert_info": {
            "alert_severity": event.alert_severity,
            "alert_status": event.alert_status,
            "alert_type": event.alert_type,
            "alert_description": event.alert_description,
        },
    }
    return AccountChange(event.field, event.waba_id, None, f"waba:{event.waba_id}", value)


@renders(PhoneNumberSecurityEvent)
def _phone_number_security(event: PhoneNumberSecurityEvent) -> AccountChange:
    value = {"display_phone_number": event.phone.display_phone_number, "event": event.event}
    return _phone_change(event, event.phone, value | _present(requester=event.requester))


# Meta's example names each button's type and text, and its phone number or URL where it has one (§4.9).
_BUTTON_KEYS = {"phone_number": "message_template_button_phone_number", "url": "message_template_button_url"}


@renders(TemplateComponentsChanged)
def _template_components_changed(event: TemplateComponentsChanged) -> AccountChange:
    template = event.template
    texts = {str(c.get("type", "")).upper(): c.get("text") for c in template.components if isinstance(c, dict)}
    buttons = [
        {
            "message_template_button_type": str(button.get("type", "")),
            "message_template_button_text": button.get("text"),
        }
        | {key: button[name] for name, key in _BUTTON_KEYS.items() if isinstance(button.get(name), str)}
        for button in template.buttons()
        if isinstance(button, dict)
    ]
    value = _template_keys(template) | _present(
        message_template_title=texts.get("HEADER"),
        message_template_element=texts.get("BODY"),
        message_template_footer=texts.get("FOOTER"),
        message_template_buttons=buttons or None,
    )
    return _template_change(event, template, value)
