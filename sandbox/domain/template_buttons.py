"""The BUTTONS of a template submission (meta-lifecycle.md §4.1): each type's fields, Meta's per-type limits, quick
replies side by side, and the one OTP button of an AUTHENTICATION template."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sandbox.domain.template import TemplateCategory
from sandbox.domain.template_problems import PLACEHOLDER, TemplateProblem, check_text, invalid, refuse

if TYPE_CHECKING:
    from sandbox.domain.policy import Templates

BUTTON_TYPES = (
    "QUICK_REPLY",
    "URL",
    "PHONE_NUMBER",
    "COPY_CODE",
    "OTP",
    "FLOW",
    "CATALOG",
    "MPM",
    "SPM",
    "VOICE_CALL",
)
OTP_TYPES = ("COPY_CODE", "ONE_TAP", "ZERO_TAP")
FLOW_ACTIONS = ("navigate", "data_exchange")
PHONE = re.compile(r"^\+?[0-9]{4,20}$")
URL = re.compile(r"^https?://\S+$")
# Meta's fixed sizes that are not worth a knob: a copy code, a phone number, a limited-time offer, an expiry.
COPY_CODE_MAX = 15
PACKAGE_NAME_MAX = 224
SIGNATURE_HASH_LENGTH = 11
# Anything else a submission carries is kept as sent, within these bounds.


def check_buttons(
    component: dict[str, Any], where: str, category: str, parameter_format: str, limits: Templates
) -> dict[str, Any]:
    buttons = component.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise invalid(f"Param {where}['buttons'] must be a non-empty array.")
    if len(buttons) > limits.buttons_max:
        raise invalid(f"A template can have at most {limits.buttons_max} buttons.")
    accepted = [check_button(button, f"{where}['buttons'][{i}]", category, limits) for i, button in enumerate(buttons)]
    check_button_counts([button["type"] for button in accepted], limits)
    return {**component, "buttons": accepted}


def check_button(button: Any, where: str, category: str, limits: Templates) -> dict[str, Any]:
    if not isinstance(button, dict):
        raise invalid(f"Param {where} must be an object.")
    kind = button.get("type").upper() if isinstance(button.get("type"), str) else None
    if kind not in BUTTON_TYPES:
        raise invalid(f"Param {where}['type'] must be one of {{{', '.join(BUTTON_TYPES)}}}.")
    button = {**button, "type": kind}
    if kind == "OTP":
        return check_otp_button(button, where, category, limits)
    if category == TemplateCategory.AUTHENTICATION:
        raise invalid("Authentication templates take one OTP button and no other.")
    if kind != "COPY_CODE" or "text" in button:
        check_text(button.get("text"), f"{where}['text']", limits.button_text_max)
    if kind == "URL":
        check_url_button(button, where, limits)
    elif kind == "PHONE_NUMBER":
        number = button.get("phone_number")
        if not isinstance(number, str) or not PHONE.match(number):
            raise invalid(f"Param {where}['phone_number'] is not a valid phone number.")
    elif kind == "COPY_CODE":
        example = button.get("example")
        if not isinstance(example, str) or not example:
            raise refuse(TemplateProblem.EXAMPLES_REQUIRED, f"Param {where}['example'] needs a sample code.")
        if len(example) > COPY_CODE_MAX:
            raise refuse(TemplateProblem.CHARACTER_LIMIT, f"A copy code has at most {COPY_CODE_MAX} characters.")
    elif kind == "FLOW":
        if not any(isinstance(button.get(key), str) and button[key] for key in ("flow_id", "flow_name", "flow_json")):
            raise invalid(f"Param {where} needs one of flow_id, flow_name or flow_json.")
        action = button.get("flow_action", "navigate")
        if action not in FLOW_ACTIONS:
            raise invalid(f"Param {where}['flow_action'] must be one of {{{', '.join(FLOW_ACTIONS)}}}.")
    return button


def check_url_button(button: dict[str, Any], where: str, limits: Templates) -> None:
    url = button.get("url")
    if not isinstance(url, str) or not URL.match(url):
        raise invalid(f"Param {where}['url'] must be an http or https URL.")
    if len(url) > limits.url_max:
        raise refuse(TemplateProblem.CHARACTER_LIMIT, f"A button URL has at most {limits.url_max} characters.")
    variables = PLACEHOLDER.findall(url)
    if not variables:
        return
    if variables != ["1"] or not url.endswith("{{1}}"):
        raise invalid(f"Param {where}['url'] may end with one variable, {{{{1}}}}, and have no other.")
    example = button.get("example")
    samples = example if isinstance(example, list) else [example] if isinstance(example, str) else []
    if len(samples) != 1 or not isinstance(samples[0], str) or not samples[0]:
        raise refuse(TemplateProblem.EXAMPLES_REQUIRED, f"Param {where}['example'] needs one sample URL.")


def check_otp_button(button: dict[str, Any], where: str, category: str, limits: Templates) -> dict[str, Any]:
    if category != TemplateCategory.AUTHENTICATION:
        raise invalid("OTP buttons are only allowed in AUTHENTICATION templates.")
    otp_type = button.get("otp_type").upper() if isinstance(button.get("otp_type"), str) else None
    if otp_type not in OTP_TYPES:
        raise invalid(f"Param {where}['otp_type'] must be one of {{{', '.join(OTP_TYPES)}}}.")
    if "text" in button:
        check_text(button["text"], f"{where}['text']", limits.button_text_max)
    if otp_type != "COPY_CODE":
        apps = button.get("supported_apps")
        apps = apps if isinstance(apps, list) and apps else [button]
        for app in apps:
            check_app(app, where, otp_type)
    return {**button, "otp_type": otp_type}


def check_app(app: Any, where: str, otp_type: str) -> None:
    package, signature = (app.get("package_name"), app.get("signature_hash")) if isinstance(app, dict) else (None, None)
    if not isinstance(package, str) or not package or len(package) > PACKAGE_NAME_MAX:
        raise invalid(f"Param {where}['package_name'] is required for a {otp_type} button.")
    if not isinstance(signature, str) or len(signature) != SIGNATURE_HASH_LENGTH:
        raise invalid(f"Param {where}['signature_hash'] must be the app's {SIGNATURE_HASH_LENGTH}-character hash.")


def check_button_counts(kinds: Sequence[str], limits: Templates) -> None:
    """Meta's per-type limits, and quick replies side by side (QR, QR, URL is valid; QR, URL, QR is not)."""
    for kind, cap in (
        ("URL", limits.url_buttons_max),
        ("PHONE_NUMBER", limits.phone_buttons_max),
        ("COPY_CODE", limits.copy_code_buttons_max),
        ("OTP", 1),
    ):
        if kinds.count(kind) > cap:
            raise invalid(f"A template can have at most {cap} {kind} button{'s' if cap != 1 else ''}.")
    positions = [index for index, kind in enumerate(kinds) if kind == "QUICK_REPLY"]
    if positions and positions[-1] - positions[0] + 1 != len(positions):
        raise invalid("Quick reply buttons must be grouped together, before or after the other buttons.")


def check_authentication(components: Iterable[dict[str, Any]]) -> None:
    buttons = [button for c in components if c["type"] == "BUTTONS" for button in c["buttons"]]
    if [button["type"] for button in buttons] != ["OTP"]:
        raise invalid("Authentication templates need exactly one OTP button.")
