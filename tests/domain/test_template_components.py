"""Each rule of domain/template_components.py refuses with the problem Meta reports (and its subcode), and what
it accepts comes back normalised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sandbox.domain import template_components as rules
from sandbox.domain.policy import Templates
from sandbox.domain.template import TEMPLATE_LIFECYCLE, MessageTemplate
from sandbox.domain.template_problems import TemplateProblem as P
from sandbox.domain.template_problems import TemplateRefused

LIMITS = Templates()
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def submission(*components: dict[str, Any], **top: Any) -> dict[str, Any]:
    body = {"type": "BODY", "text": "Your order {{1}} is ready.", "example": {"body_text": [["42"]]}}
    return {"name": "ready", "language": "en_US", "category": "utility", "components": list(components) or [body]} | top


def body(text: str, example: Any = None) -> dict[str, Any]:
    return {"type": "BODY", "text": text} | ({"example": example} if example is not None else {})


def buttons(*items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "BUTTONS", "buttons": list(items)}


QR = {"type": "QUICK_REPLY", "text": "Yes"}
URL = {"type": "URL", "text": "Open", "url": "https://x.test"}
PHONE = {"type": "PHONE_NUMBER", "text": "Call", "phone_number": "+16467043595"}
OTP = {"type": "OTP", "otp_type": "COPY_CODE"}
HI = body("Hello there")


def problem(submitted: dict[str, Any]) -> P:
    with pytest.raises(TemplateRefused) as refused:
        rules.draft(submitted, LIMITS)
    return refused.value.problem


def test_an_accepted_submission_is_normalised() -> None:
    draft = rules.draft(submission(body("Hi {{1}}, it is {{2}}.", {"body_text": [["Ana", "late"]]})), LIMITS)
    assert draft.category == "UTILITY" and draft.parameter_format == "POSITIONAL"
    assert draft.allow_category_change is False and draft.components[0]["type"] == "BODY"


@pytest.mark.parametrize(
    ("submitted", "expected"),
    [
        (submission(name="Ready"), P.INVALID),
        (submission(name="x" * 513), P.CHARACTER_LIMIT),
        (submission(language="english"), P.INVALID),
        (submission(category="SALES"), P.INVALID),
        (submission(parameter_format="MIXED"), P.INVALID),
        (submission(allow_category_change="maybe"), P.INVALID),
        (submission(components=[]), P.INVALID),
        (submission(components=[{"type": "FOOTER", "text": "f"}]), P.INVALID),
        (submission(HI, HI), P.INVALID),
        (submission(body("{{1}} is ready", {"body_text": [["x"]]})), P.LEADING_TRAILING_PARAMETER),
        (submission(body("Ready: {{1}}", {"body_text": [["x"]]})), P.LEADING_TRAILING_PARAMETER),
        (submission(body("Hi {{2}} there")), P.BODY_FORMAT),
        (submission(body("Hi {{1} there")), P.BODY_FORMAT),
        (submission(body("Hi {{name}} there")), P.BODY_FORMAT),
        (submission(body("Hi {{1}} there")), P.EXAMPLES_REQUIRED),
        (submission(body("Hi {{1}} {{2}} there", {"body_text": [["a"]]})), P.EXAMPLES_REQUIRED),
        (submission(body("x" * 1025)), P.CHARACTER_LIMIT),
        (submission(HI, {"type": "HEADER", "format": "TEXT", "text": "h" * 61}), P.CHARACTER_LIMIT),
        (submission(HI, {"type": "HEADER", "format": "AUDIO"}), P.HEADER_FORMAT),
        (submission(HI, {"type": "HEADER", "format": "TEXT", "text": "{{1}} {{2}}"}), P.HEADER_FORMAT),
        (submission(HI, {"type": "HEADER", "format": "TEXT", "text": "Hi {{1}}"}), P.EXAMPLES_REQUIRED),
        (submission(HI, {"type": "HEADER", "format": "VIDEO"}), P.EXAMPLES_REQUIRED),
        (submission(HI, {"type": "HEADER", "format": "LOCATION", "text": "x"}), P.HEADER_FORMAT),
        (submission(HI, {"type": "FOOTER", "text": "f" * 61}), P.CHARACTER_LIMIT),
        (submission(HI, {"type": "FOOTER", "text": "Bye {{1}}"}), P.FOOTER_FORMAT),
        (submission(HI, buttons(*[QR] * 11)), P.INVALID),
        (submission(HI, buttons(URL, URL, URL)), P.INVALID),
        (submission(HI, buttons(PHONE, PHONE)), P.INVALID),
        (submission(HI, buttons(QR, URL, QR)), P.INVALID),
        (submission(HI, buttons({"type": "QUICK_REPLY", "text": "q" * 26})), P.CHARACTER_LIMIT),
        (submission(HI, buttons({"type": "URL", "text": "Go", "url": "ftp://x"})), P.INVALID),
        (submission(HI, buttons({"type": "URL", "text": "Go", "url": "https://x.test/{{1}}"})), P.EXAMPLES_REQUIRED),
        (submission(HI, buttons({"type": "PHONE_NUMBER", "text": "Call", "phone_number": "call me"})), P.INVALID),
        (submission(HI, buttons({"type": "COPY_CODE", "example": "C" * 16})), P.CHARACTER_LIMIT),
        (submission(HI, buttons({"type": "COPY_CODE"})), P.EXAMPLES_REQUIRED),
        (submission(HI, buttons({"type": "FLOW", "text": "Book"})), P.INVALID),
        (submission(HI, buttons(OTP)), P.INVALID),
        (submission(HI, buttons(QR), category="AUTHENTICATION"), P.INVALID),
        (submission(HI, buttons({**OTP, "otp_type": "ONE_TAP"}), category="AUTHENTICATION"), P.INVALID),
        (submission(HI, {"type": "LIMITED_TIME_OFFER", "limited_time_offer": {"text": "Sale"}}), P.INVALID),
        (submission(HI, {"type": "CAROUSEL", "cards": [{"components": [HI]}]}), P.INVALID),
    ],
)
def test_each_rule_refuses_with_meta_s_problem(submitted: dict[str, Any], expected: P) -> None:
    assert problem(submitted) == expected


def test_named_parameters_take_named_examples() -> None:
    text = "Your table for {{guests}} on {{day}} is set."
    good = {
        "body_text_named_params": [{"param_name": "guests", "example": "4"}, {"param_name": "day", "example": "Sat"}]
    }
    draft = rules.draft(submission(body(text, good), parameter_format="NAMED"), LIMITS)
    assert draft.parameter_format == "NAMED"
    missing = {"body_text_named_params": [{"param_name": "guests", "example": "4"}]}
    assert problem(submission(body(text, missing), parameter_format="NAMED")) == P.EXAMPLES_REQUIRED
    assert problem(submission(body("Hi {{1}} there"), parameter_format="NAMED")) == P.BODY_FORMAT


def test_every_component_meta_documents_is_accepted() -> None:
    card = {
        "components": [
            {"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::aW"]}},
            body("Card text"),
            buttons(QR),
        ]
    }
    marketing = submission(
        {"type": "HEADER", "format": "DOCUMENT", "example": {"header_handle": ["4::aW"]}},
        body("Hi {{1}}, see this.", {"body_text": [["Ana"]]}),
        {"type": "FOOTER", "text": "Bye"},
        buttons(
            QR,
            QR,
            {"type": "URL", "text": "Go", "url": "https://x.test/{{1}}", "example": ["https://x.test/a"]},
            PHONE,
            {"type": "COPY_CODE", "example": "SAVE10"},
            {"type": "FLOW", "text": "Book", "flow_id": "123"},
            {"type": "CATALOG", "text": "View"},
        ),
        {"type": "LIMITED_TIME_OFFER", "limited_time_offer": {"text": "Sale", "has_expiration": True}},
        category="MARKETING",
    )
    assert len(rules.draft(marketing, LIMITS).components) == 5
    carousel = submission(body("Pick one"), {"type": "CAROUSEL", "cards": [card, card]}, category="MARKETING")
    assert rules.draft(carousel, LIMITS).components[1]["type"] == "CAROUSEL"
    location = submission({"type": "HEADER", "format": "LOCATION"}, HI)
    assert rules.draft(location, LIMITS).components[0]["format"] == "LOCATION"
    authentication = submission(
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "FOOTER", "code_expiration_minutes": 5},
        buttons({**OTP, "otp_type": "one_tap", "package_name": "com.app", "signature_hash": "K8a/AINcGX7"}),
        category="AUTHENTICATION",
    )
    assert rules.draft(authentication, LIMITS).components[2]["buttons"][0]["otp_type"] == "ONE_TAP"


def _template(status: str, deleted_at: datetime | None = None) -> MessageTemplate:
    return MessageTemplate("1", "w", "ready", "en_US", "UTILITY", [], status=status, deleted_at=deleted_at)


def test_a_name_and_language_is_unique_and_stays_blocked_after_deletion() -> None:
    with pytest.raises(TemplateRefused) as duplicate:
        rules.check_unique([_template("REJECTED")], "ready", "en_US", NOW, 30)
    assert duplicate.value.problem == P.DUPLICATE
    rules.check_unique([_template("REJECTED")], "ready", "pt_BR", NOW, 30)
    for template in (_template("PENDING_DELETION"), _template("DELETED", NOW - timedelta(days=29))):
        with pytest.raises(TemplateRefused) as blocked:
            rules.check_unique([template], "ready", "en_US", NOW, 30)
        assert blocked.value.problem == P.LANGUAGE_BEING_DELETED
    rules.check_unique([_template("DELETED", NOW - timedelta(days=31))], "ready", "en_US", NOW, 30)


def test_the_count_and_the_hourly_rate() -> None:
    rules.check_count(249, 250)
    with pytest.raises(TemplateRefused, match="250") as full:
        rules.check_count(250, 250)
    assert full.value.problem == P.TEMPLATE_LIMIT
    recent = [NOW - timedelta(seconds=30 * n) for n in range(100)]
    with pytest.raises(TemplateRefused) as fast:
        rules.check_rate(recent, NOW, 100)
    assert fast.value.problem == P.CREATION_RATE
    rules.check_rate([NOW - timedelta(minutes=61)] * 100, NOW, 100)


def test_every_move_raises_one_status_event() -> None:
    for trigger, sources, dest in TEMPLATE_LIFECYCLE.table():
        for source in sources:
            template = _template(source)
            TEMPLATE_LIFECYCLE.fire(template, trigger, NOW)
            events = template.drain_events()
            assert template.status == dest and len(events) == 1, (trigger, source)
            expected = {"reinstate": "REINSTATED", "unarchive": "UNARCHIVED"}.get(trigger, dest)
            assert events[0].event == expected
