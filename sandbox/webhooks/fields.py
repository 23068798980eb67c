"""The account-side webhook fields: one renderer per field, and typed constructors for the events behind them.

The lifecycles (templates, numbers, reviews, enforcement) build their `AccountEvent`s with the constructors
below, so the `value` already has Meta's keys and types; the renderer of each field checks the shape, puts the
keys in Meta's order and drops nothing (fields Meta adds later pass through). Shapes: meta-lifecycle.md §2.8,
§2.9, §3.3–§3.5, §3.7, §4.7–§4.9.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sandbox.domain.events import AccountEvent
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


@renderer("security")
def _security(value: Mapping[str, Any]) -> dict[str, Any]:
    return _shape("security", value, {"display_phone_number": str, "event": str}, {"requester": str})


def _require(field: str, value: Mapping[str, Any], key: str) -> dict[str, Any]:
    if not isinstance(value.get(key), str):
        raise ValueError(f"{field} webhook needs {key!r}")
    return {}


# -- typed constructors for the lifecycles ---------------------------------------------------------------------


def _template_keys(template: MessageTemplate) -> dict[str, Any]:
    return {
        "message_template_id": int(template.id),
        "message_template_name": template.name,
        "message_template_language": template.language,
    }


# Meta's PAUSED and DISABLED examples carry no `message_template_category` (§4.9).
_NO_CATEGORY_EVENTS = frozenset({"PAUSED", "DISABLED"})


def template_status_update(
    template: MessageTemplate,
    event: str,
    at: datetime,
    *,
    reason: str | None = "NONE",
    rejection_info: dict[str, str] | None = None,
    other_info: dict[str, str] | None = None,
    disable_info: dict[str, int] | None = None,
) -> AccountEvent:
    """`event` ∈ APPROVED, REJECTED, PENDING, PAUSED, DISABLED, FLAGGED, REINSTATED, PENDING_DELETION, DELETED, …;
    `reason` is None for deletion-scheduled events (§4.9)."""
    value: dict[str, Any] = {"event": event, **_template_keys(template), "reason": reason}
    if event not in _NO_CATEGORY_EVENTS:
        value["message_template_category"] = template.category
    for key, extra in (("rejection_info", rejection_info), ("other_info", other_info), ("disable_info", disable_info)):
        if extra is not None:
            value[key] = extra
    return AccountEvent("message_template_status_update", value, at, waba_id=template.waba_id)


def template_quality_update(template: MessageTemplate, previous: str, new: str, at: datetime) -> AccountEvent:
    value = {"previous_quality_score": previous, "new_quality_score": new, **_template_keys(template)}
    return AccountEvent("message_template_quality_update", value, at, waba_id=template.waba_id)


def template_category_update(
    template: MessageTemplate,
    at: datetime,
    *,
    new_category: str,
    previous_category: str | None = None,
    correct_category: str | None = None,
    category_update_timestamp: int | None = None,
) -> AccountEvent:
    """Completed change: `previous_category` + `new_category`; impending change: `new_category` (the current one),
    `correct_category` and `category_update_timestamp` (§4.7)."""
    value: dict[str, Any] = _template_keys(template)
    if previous_category is not None:
        value["previous_category"] = previous_category
    value["new_category"] = new_category
    if correct_category is not None:
        value["correct_category"] = correct_category
    if category_update_timestamp is not None:
        value["category_update_timestamp"] = category_update_timestamp
    return AccountEvent("template_category_update", value, at, waba_id=template.waba_id)


def phone_number_name_update(
    phone: PhoneNumber, decision: str, requested_verified_name: str, at: datetime, rejection_reason: str | None = None
) -> AccountEvent:
    value = {
        "display_phone_number": phone.display_phone_number,
        "decision": decision,
        "requested_verified_name": requested_verified_name,
        "rejection_reason": rejection_reason,
    }
    return AccountEvent("phone_number_name_update", value, at, phone.id, waba_id=phone.waba_id)


def phone_number_quality_update(
    phone: PhoneNumber,
    event: str,
    at: datetime,
    *,
    current_limit: str | None = None,
    old_limit: str | None = None,
    max_daily_conversations_per_business: str | None = None,
) -> AccountEvent:
    value: dict[str, Any] = {"display_phone_number": phone.display_phone_number, "event": event}
    for key, extra in (
        ("current_limit", current_limit),
        ("old_limit", old_limit),
        ("max_daily_conversations_per_business", max_daily_conversations_per_business),
    ):
        if extra is not None:
            value[key] = extra
    return AccountEvent("phone_number_quality_update", value, at, phone.id, waba_id=phone.waba_id)


def account_update(
    waba_id: str, event: str, at: datetime, *, phone: PhoneNumber | None = None, **details: Any
) -> AccountEvent:
    """`details` are the event's objects: `violation_info`, `restriction_info`, `ban_info`, `waba_info`,
    `disconnection_info`, `volume_tier_info`, … (§3.4)."""
    value: dict[str, Any] = {}
    if phone is not None:
        value["phone_number"] = phone.display_phone_number
    value["event"] = event
    value |= details
    return AccountEvent("account_update", value, at, phone.id if phone else None, waba_id=waba_id)


def account_review_update(waba_id: str, decision: str, at: datetime) -> AccountEvent:
    return AccountEvent("account_review_update", {"decision": decision}, at, waba_id=waba_id)


def business_capability_update(
    waba_id: str,
    at: datetime,
    *,
    max_daily_conversations_per_business: str | int | None = None,
    max_phone_numbers_per_waba: int | None = None,
    max_phone_numbers_per_business: int | None = None,
    max_daily_conversation_per_phone: int | None = None,
) -> AccountEvent:
    value: dict[str, Any] = {}
    for key, extra in (
        ("max_daily_conversation_per_phone", max_daily_conversation_per_phone),
        ("max_daily_conversations_per_business", max_daily_conversations_per_business),
        ("max_phone_numbers_per_business", max_phone_numbers_per_business),
        ("max_phone_numbers_per_waba", max_phone_numbers_per_waba),
    ):
        if extra is not None:
            value[key] = extra
    return AccountEvent("business_capability_update", value, at, waba_id=waba_id)


def security(phone: PhoneNumber, event: str, at: datetime, requester: str | None = None) -> AccountEvent:
    """`event` ∈ PIN_CHANGED, PIN_RESET_REQUEST, PIN_RESET_SUCCESS (§2.8)."""
    value: dict[str, Any] = {"display_phone_number": phone.display_phone_number, "event": event}
    if requester is not None:
        value["requester"] = requester
    return AccountEvent("security", value, at, phone.id, waba_id=phone.waba_id)
