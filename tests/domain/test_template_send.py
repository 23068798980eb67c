"""The send-time checks of a template message, one per Meta code (domain/template_send.py)."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.domain.template import MessageTemplate
from sandbox.domain.template_send import SendRefused, check_send, check_status, variables


def _template(components: list[dict[str, Any]], **fields: Any) -> MessageTemplate:
    return MessageTemplate(
        **(
            {"id": "1", "waba_id": "w", "name": "order", "language": "en_US"}
            | {"category": "UTILITY", "components": components}
            | fields
        )
    )


BODY = {"type": "BODY", "text": "Hi {{1}}, order {{2}} ships; {{1}}, thanks."}
IMAGE = {"type": "HEADER", "format": "IMAGE"}
BUTTONS = {
    "type": "BUTTONS",
    "buttons": [
        {"type": "URL", "text": "Track", "url": "https://x.test/{{1}}"},
        {"type": "QUICK_REPLY", "text": "Stop"},
    ],
}


def _text(value: str, name: str | None = None) -> dict[str, Any]:
    return {"type": "text", "text": value} | ({"parameter_name": name} if name else {})


def _code(template: MessageTemplate, components: Any) -> int | None:
    try:
        check_send(template, components)
    except SendRefused as refused:
        return refused.code
    return None


def test_a_variable_used_twice_counts_once() -> None:
    assert variables(BODY["text"]) == ["1", "2"]
    assert _code(_template([BODY]), [{"type": "body", "parameters": [_text("Ana"), _text("42")]}]) is None


@pytest.mark.parametrize("status", ["PENDING", "REJECTED", "DELETED", "ARCHIVED"])
def test_only_approved_templates_exist_for_sending(status: str) -> None:
    with pytest.raises(SendRefused) as refused:
        check_status(_template([BODY], status=status), "order", "en_US")
    assert refused.value.code == 132001


def test_missing_template_paused_and_disabled() -> None:
    for template, code in ((None, 132001), (_template([BODY], status="PAUSED"), 132015)):
        with pytest.raises(SendRefused) as refused:
            check_status(template, "order", "en_US")
        assert refused.value.code == code
    with pytest.raises(SendRefused) as refused:
        check_status(_template([BODY], status="DISABLED"), "order", "en_US")
    assert refused.value.code == 132016


@pytest.mark.parametrize("count", [0, 1, 3])
def test_body_count_mismatch_is_132000(count: int) -> None:
    parameters = [_text(str(n)) for n in range(count)]
    assert _code(_template([BODY]), [{"type": "body", "parameters": parameters}]) == 132000


def test_hydrated_body_too_long_is_132005() -> None:
    components = [{"type": "body", "parameters": [_text("a" * 600), _text("b")]}]
    assert _code(_template([BODY]), components) == 132005


@pytest.mark.parametrize("value", ["two\nlines", "tab\there", "five     spaces"])
def test_newlines_tabs_and_runs_of_spaces_are_132007(value: str) -> None:
    components = [{"type": "body", "parameters": [_text(value), _text("b")]}]
    assert _code(_template([BODY]), components) == 132007


def test_named_parameters_by_name_and_positional_ones_without() -> None:
    named = _template([{"type": "BODY", "text": "Hi {{first_name}}, order {{order_id}}"}], parameter_format="NAMED")
    good = [{"type": "body", "parameters": [_text("42", "order_id"), _text("Ana", "first_name")]}]
    assert _code(named, good) is None
    assert _code(named, [{"type": "body", "parameters": [_text("Ana"), _text("42")]}]) == 132012
    assert _code(named, [{"type": "body", "parameters": [_text("Ana", "nope"), _text("42", "order_id")]}]) == 132012
    positional = [{"type": "body", "parameters": [_text("Ana", "first"), _text("42", "second")]}]
    assert _code(_template([BODY]), positional) == 132012


def test_a_media_header_needs_its_media() -> None:
    template = _template([IMAGE, {"type": "BODY", "text": "Hello"}])
    assert _code(template, None) == 132012
    assert _code(template, [{"type": "header", "parameters": [{"type": "video", "video": {"id": "1"}}]}]) == 132012
    assert _code(template, [{"type": "header", "parameters": [{"type": "image", "image": {}}]}]) == 132012
    assert (
        _code(template, [{"type": "header", "parameters": [{"type": "image", "image": {"link": "https://i"}}]}]) is None
    )


def test_a_location_header_and_a_text_header() -> None:
    location = _template([{"type": "HEADER", "format": "LOCATION"}, {"type": "BODY", "text": "Here"}])
    where = {"type": "location", "location": {"latitude": 1.0, "longitude": 2.0}}
    assert _code(location, [{"type": "header", "parameters": [where]}]) is None
    assert _code(location, [{"type": "header", "parameters": [{"type": "location", "location": {}}]}]) == 132012
    text = _template([{"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}, {"type": "BODY", "text": "Hi"}])
    assert _code(text, None) == 132000
    assert _code(text, [{"type": "header", "parameters": [_text("x" * 60)]}]) == 132005
    assert _code(text, [{"type": "header", "parameters": [_text("42")]}]) is None


def test_buttons_by_index_and_sub_type() -> None:
    template = _template([{"type": "BODY", "text": "Hi"}, BUTTONS])
    url = {"type": "button", "sub_type": "url", "index": "0", "parameters": [_text("abc")]}
    assert _code(template, [url]) is None
    assert _code(template, []) == 132000  # the URL's suffix is missing
    assert _code(template, [url | {"sub_type": "quick_reply"}]) == 132012
    assert _code(template, [url, url]) == 132012
    assert _code(template, [url | {"index": 5}]) == 132012
    reply = {
        "type": "button",
        "sub_type": "quick_reply",
        "index": 1,
        "parameters": [{"type": "payload", "payload": "p"}],
    }
    assert _code(template, [url, reply]) is None
    assert _code(template, [url, reply | {"parameters": [_text("p")]}]) == 132012


def test_an_authentication_template_takes_the_code_twice() -> None:
    otp = {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}
    template = _template([{"type": "BODY"}, otp], category="AUTHENTICATION")
    button = {"type": "button", "sub_type": "url", "index": "0", "parameters": [_text("123456")]}
    assert _code(template, [{"type": "body", "parameters": [_text("123456")]}, button]) is None
    assert _code(template, [{"type": "body", "parameters": [_text("123456")]}]) == 132000


def test_malformed_components_are_132012() -> None:
    template = _template([BODY])
    assert _code(template, "body") == 132012
    assert _code(template, [{"type": "footer"}]) == 132012
    assert _code(template, [{"type": "body", "parameters": "x"}]) == 132012


def test_an_edit_that_assigns_new_components_changes_what_a_send_needs() -> None:
    template = _template([BODY])
    two = [{"type": "body", "parameters": [_text("Ana"), _text("42")]}]
    assert _code(template, two) is None
    template.components = [{"type": "BODY", "text": "Just {{1}}"}]
    assert _code(template, two) == 132000
    template.parameter_format = "NAMED"
    template.components = [{"type": "BODY", "text": "Just {{who}}"}]
    assert _code(template, [{"type": "body", "parameters": [_text("Ana", "who")]}]) is None
