from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.api import interactive_bodies as ib
from sandbox.api import message_bodies as mb
from sandbox.api.message_bodies import parse_messages_request
from sandbox.domain.commands import MarkMessageRead, SendMessage
from sandbox.domain.message import OUTBOUND_TYPES
from sandbox.errors import GraphError, GraphErrorCode

PHONE_NUMBER_ID = "106540352242922"
WAMID = "wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQUZCMTY0MDc2MUYwNzBDNTY5MAA="

MISSING = GraphErrorCode.REQUIRED_PARAMETER_MISSING
INVALID = GraphErrorCode.PARAMETER_VALUE_INVALID
PARAM = GraphErrorCode.INVALID_PARAMETER
UNSUPPORTED = GraphErrorCode.UNSUPPORTED_MESSAGE_TYPE


def send(message_type: str | None, content: Any, **envelope: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"messaging_product": "whatsapp", "to": "+16505551234", **envelope}
    if message_type is not None:
        body["type"] = message_type
        body[message_type] = content
    return body


def parse(body: object) -> SendMessage | MarkMessageRead:
    return parse_messages_request(PHONE_NUMBER_ID, body)


def parse_error(body: object) -> GraphError:
    with pytest.raises(GraphError) as caught:
        parse(body)
    return caught.value


# Meta's examples (meta-messaging.md §2.4), one per type and interactive subtype.
TEXT: dict[str, Any] = {
    "preview_url": True,
    "body": "As requested, here's the link: https://www.meta.com/quest/quest-3/",
}
CONTACT: dict[str, Any] = {
    "addresses": [
        {
            "street": "1 Lucky Shrub Way",
            "city": "Menlo Park",
            "state": "CA",
            "zip": "94025",
            "country": "United States",
            "country_code": "US",
            "type": "Office",
        },
    ],
    "birthday": "1999-01-23",
    "emails": [{"email": "bjohnson@luckyshrub.com", "type": "Work"}],
    "name": {
        "formatted_name": "Barbara J. Johnson",
        "first_name": "Barbara",
        "last_name": "Johnson",
        "middle_name": "Joana",
        "suffix": "Esq.",
        "prefix": "Dr.",
    },
    "org": {"company": "Lucky Shrub", "department": "Legal", "title": "Lead Counsel"},
    "phones": [{"phone": "+1 (940) 555-1234", "type": "HOME", "wa_id": "19405551234"}],
    "urls": [{"url": "https://www.luckyshrub.com", "type": "Company"}],
}
REPLY_BUTTONS: dict[str, Any] = {
    "type": "button",
    "header": {"type": "image", "image": {"id": "2762702990552401"}},
    "body": {"text": "Hi Pablo! Your gardening workshop is scheduled for 9am tomorrow."},
    "footer": {"text": "Lucky Shrub: Your gateway to succulents!™"},
    "action": {
        "buttons": [
            {"type": "reply", "reply": {"id": "change-button", "title": "Change"}},
            {"type": "reply", "reply": {"id": "cancel-button", "title": "Cancel"}},
        ]
    },
}
LIST: dict[str, Any] = {
    "type": "list",
    "header": {"type": "text", "text": "Choose Shipping Option"},
    "body": {"text": "Which shipping option do you prefer?"},
    "footer": {"text": "Lucky Shrub: Your gateway to succulents™"},
    "action": {
        "button": "Shipping Options",
        "sections": [
            {
                "title": "I want it ASAP!",
                "rows": [
                    {"id": "priority_express", "title": "Priority Mail Express", "description": "Next Day to 2 Days"},
                    {"id": "priority_mail", "title": "Priority Mail", "description": "1–3 Days"},
                ],
            }
        ],
    },
}
CTA_URL: dict[str, Any] = {
    "type": "cta_url",
    "header": {"type": "image", "image": {"link": "https://www.luckyshrub.com/assets/banner.png"}},
    "body": {"text": "Tap the button below to see available dates."},
    "action": {
        "name": "cta_url",
        "parameters": {"display_text": "See Dates", "url": "https://www.luckyshrub.com?clickID=kqDGWd24"},
    },
    "footer": {"text": "Dates subject to change."},
}
FLOW: dict[str, Any] = {
    "type": "flow",
    "header": {"type": "text", "text": "Flow message header"},
    "body": {"text": "Flow message body"},
    "footer": {"text": "Flow message footer"},
    "action": {
        "name": "flow",
        "parameters": {
            "flow_message_version": "3",
            "flow_token": "AQAAAAACS5FpgQ_cAAAAAD0QI3s.",
            "flow_id": "1197715005513101",
            "flow_cta": "Book!",
            "flow_action": "navigate",
            "flow_action_payload": {"screen": "BOOKING", "data": {"product_name": "name"}},
        },
    },
}
LOCATION_REQUEST: dict[str, Any] = {
    "type": "location_request_message",
    "body": {"text": "Let us start with your pickup. You can either manually enter an address or share your location."},
    "action": {"name": "send_location"},
}
TEMPLATE: dict[str, Any] = {
    "name": "order_update",
    "language": {"code": "en_US", "policy": "deterministic"},
    "components": [
        {"type": "header", "parameters": [{"type": "image", "image": {"id": "2762702990552401"}}]},
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Jessica"},
                {"type": "currency", "currency": {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100990}},
                {"type": "date_time", "date_time": {"fallback_value": "February 25, 1977"}},
            ],
        },
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": "0",
            "parameters": [{"type": "payload", "payload": "P"}],
        },
        {"type": "button", "sub_type": "url", "index": 1, "parameters": [{"type": "text", "text": "order/12345"}]},
    ],
}

VALID_SENDS = {
    "text": send("text", TEXT),
    "image": send("image", {"id": "1013859600285441", "caption": "Taj Mahal"}),
    "document": send(
        "document", {"link": "https://example.com/invoice.pdf", "caption": "Invoice", "filename": "invoice.pdf"}
    ),
    "audio": send("audio", {"id": "1013859600285441"}),
    "video": send("video", {"link": "https://example.com/clip.mp4", "caption": "Demo"}),
    "sticker": send("sticker", {"id": "798882015472548"}),
    "location": send(
        "location",
        {
            "latitude": "37.44216251868683",
            "longitude": "-122.16153582049394",
            "name": "Philz Coffee",
            "address": "101 Forest Ave, Palo Alto, CA 94301",
        },
    ),
    "contacts": send("contacts", [CONTACT]),
    "reaction": send("reaction", {"message_id": WAMID, "emoji": "\U0001f600"}),
    "interactive-button": send("interactive", REPLY_BUTTONS),
    "interactive-list": send("interactive", LIST),
    "interactive-cta_url": send("interactive", CTA_URL),
    "interactive-flow": send("interactive", FLOW),
    "interactive-location_request_message": send("interactive", LOCATION_REQUEST),
    "template": send("template", TEMPLATE),
}


@pytest.mark.parametrize("body", list(VALID_SENDS.values()), ids=list(VALID_SENDS))
def test_meta_examples_parse_to_a_send(body: dict[str, Any]) -> None:
    command = parse(body)

    assert command == SendMessage(
        phone_number_id=PHONE_NUMBER_ID, to="+16505551234", type=body["type"], content=body[body["type"]]
    )


def test_defaults_recipient_type_and_type_when_absent() -> None:
    command = parse({"to": "16505551234", "text": {"body": "hi"}, "messaging_product": "whatsapp"})

    assert command == SendMessage(PHONE_NUMBER_ID, "16505551234", "text", {"body": "hi"})


def test_keeps_to_verbatim_with_punctuation() -> None:
    command = parse(send("text", {"body": "hi"}, to="+1 (650) 555-1234"))

    assert isinstance(command, SendMessage)
    assert command.to == "+1 (650) 555-1234"


def test_accepts_a_numeric_to_as_its_string() -> None:
    command = parse(send("text", {"body": "hi"}, to=16505551234))

    assert isinstance(command, SendMessage)
    assert command.to == "16505551234"


def test_group_recipient_takes_a_group_id() -> None:
    group_id = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM="
    command = parse(send("text", {"body": "hi"}, to=group_id, recipient_type="group"))

    assert command == SendMessage(PHONE_NUMBER_ID, group_id, "text", {"body": "hi"}, recipient_type="group")


def test_carries_context_and_biz_opaque_callback_data() -> None:
    body = send("text", {"body": "hi"}, context={"message_id": WAMID}, biz_opaque_callback_data="x" * 512)

    command = parse(body)

    assert isinstance(command, SendMessage)
    assert (command.context_message_id, command.biz_opaque_callback_data) == (WAMID, "x" * 512)


def test_reaction_with_empty_emoji_removes() -> None:
    command = parse(send("reaction", {"message_id": WAMID, "emoji": ""}))

    assert isinstance(command, SendMessage)
    assert command.content == {"message_id": WAMID, "emoji": ""}


def test_location_accepts_numbers_and_range_edges() -> None:
    command = parse(send("location", {"latitude": -90, "longitude": 180.0}))

    assert isinstance(command, SendMessage)
    assert command.content == {"latitude": -90, "longitude": 180.0}


def test_template_normalises_enums_to_lower_case_and_keeps_the_rest() -> None:
    template: dict[str, Any] = {
        "name": "hello_world",
        "language": {"code": "en_US", "policy": "DETERMINISTIC"},
        "components": [
            {"type": "BODY", "parameters": [{"type": "TEXT", "parameter_name": "first_name", "text": "Jessica"}]},
            {
                "type": "Button",
                "sub_type": "COPY_CODE",
                "index": 0,
                "parameters": [{"type": "coupon_code", "coupon_code": "25OFF"}],
            },
            {
                "type": "button",
                "sub_type": "flow",
                "index": "1",
                "parameters": [{"type": "action", "action": {"flow_token": "t", "flow_action_data": {"a": 1}}}],
            },
        ],
        "namespace": "tolerated-extra-key",
    }
    command = parse(send("template", template))

    assert isinstance(command, SendMessage)
    components = command.content["components"]
    assert [c["type"] for c in components] == ["body", "button", "button"]
    assert components[0]["parameters"][0]["type"] == "text"
    assert components[1]["sub_type"] == "copy_code"
    assert command.content["language"]["policy"] == "deterministic"
    assert command.content["namespace"] == "tolerated-extra-key"
    assert template["components"][0]["type"] == "BODY", "the request body itself is left alone"


def test_template_header_media_and_location_parameters() -> None:
    header_parameters = [
        {"type": "document", "document": {"link": "https://example.com/a.pdf", "filename": "a.pdf"}},
        {"type": "location", "location": {"latitude": 1, "longitude": 2, "name": "N", "address": "A"}},
        {"type": "video", "video": {"id": "1"}},
    ]
    template = {
        "name": "n",
        "language": {"code": "en"},
        "components": [{"type": "header", "parameters": header_parameters}],
    }

    assert isinstance(parse(send("template", template)), SendMessage)


def test_interactive_normalises_enum_case() -> None:
    interactive = copy.deepcopy(REPLY_BUTTONS) | {"type": "BUTTON", "header": {"type": "Text", "text": "Hello"}}

    command = parse(send("interactive", interactive))

    assert isinstance(command, SendMessage)
    assert (command.content["type"], command.content["header"]["type"]) == ("button", "text")


def test_list_with_one_untitled_section_and_flow_by_name() -> None:
    untitled = {**LIST, "action": {"button": "Go", "sections": [{"rows": [{"id": "a", "title": "A"}]}]}}
    flow_by_name = copy.deepcopy(FLOW)
    parameters = flow_by_name["action"]["parameters"]
    del parameters["flow_id"], parameters["flow_action_payload"]
    parameters |= {"flow_name": "booking", "flow_action": "data_exchange", "mode": "draft", "flow_message_version": 3}

    assert isinstance(parse(send("interactive", untitled)), SendMessage)
    assert isinstance(parse(send("interactive", flow_by_name)), SendMessage)


def test_mark_message_read() -> None:
    command = parse({"messaging_product": "whatsapp", "status": "read", "message_id": WAMID})

    assert command == MarkMessageRead(PHONE_NUMBER_ID, WAMID)


def test_mark_message_read_with_typing_indicator() -> None:
    body = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": WAMID,
        "typing_indicator": {"type": "text"},
    }

    assert parse(body) == MarkMessageRead(PHONE_NUMBER_ID, WAMID, typing_indicator="text")


def _interactive(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return send("interactive", copy.deepcopy(base) | changes)


def _buttons(*titles: str, ids: tuple[str, ...] | None = None) -> dict[str, Any]:
    ids = ids or tuple(f"id-{n}" for n in range(len(titles)))
    return {"buttons": [{"type": "reply", "reply": {"id": i, "title": t}} for i, t in zip(ids, titles, strict=True)]}


def _rows(count: int, **row: Any) -> list[dict[str, Any]]:
    return [{"id": f"row-{n}", "title": f"Row {n}"} | row for n in range(count)]


def _sections(*sections: dict[str, Any]) -> dict[str, Any]:
    return {"button": "Options", "sections": list(sections)}


def _flow(**parameters: Any) -> dict[str, Any]:
    return _interactive(FLOW, action={"name": "flow", "parameters": FLOW["action"]["parameters"] | parameters})


def _cta(**parameters: Any) -> dict[str, Any]:
    return _interactive(CTA_URL, action={"name": "cta_url", "parameters": parameters})


def _template(*components: dict[str, Any], **template: Any) -> dict[str, Any]:
    return send("template", {"name": "t", "language": {"code": "en"}, "components": list(components)} | template)


def _body_parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    return _template({"type": "body", "parameters": [parameter]})


WHATSAPP_ERRORS = [
    pytest.param(send("text", {"body": "hi"}, to=None), MISSING, "The parameter to is required.", id="to-missing"),
    pytest.param(send("text", {"body": "hi"}, to=""), MISSING, "The parameter to is required.", id="to-empty"),
    pytest.param(send("text", {"body": "hi"}, to="+1 650 CALL-NOW"), PARAM, mb.PARAMETER_INVALID, id="to-letters"),
    pytest.param(send("text", {"body": "hi"}, to="0033 6 12 34 56 78"), PARAM, mb.PARAMETER_INVALID, id="to-00"),
    pytest.param(send("text", {"body": "hi"}, to="+-()"), PARAM, mb.PARAMETER_INVALID, id="to-no-digits"),
    pytest.param(send("text", {"body": "hi"}, to=-16505551234), PARAM, mb.PARAMETER_INVALID, id="to-negative"),
    pytest.param(send("pigeon", {}), UNSUPPORTED, ib.UNSUPPORTED_MESSAGE_TYPE, id="type-unknown"),
    pytest.param(send("order_status", {}), UNSUPPORTED, ib.UNSUPPORTED_MESSAGE_TYPE, id="type-unmodelled"),
    pytest.param(send("text", None), MISSING, "The parameter text is required.", id="type-object-missing"),
    pytest.param(
        send("text", {"preview_url": True}), MISSING, "The parameter text['body'] is required.", id="text-body"
    ),
    pytest.param(send("text", {"body": ""}), MISSING, "The parameter text['body'] is required.", id="text-body-empty"),
    pytest.param(
        send("text", {"body": "hi"}, biz_opaque_callback_data="x" * 513),
        INVALID,
        "Param biz_opaque_callback_data must be at most 512 characters long.",
        id="biz-opaque-too-long",
    ),
    pytest.param(
        send("text", {"body": "hi"}, context={}),
        MISSING,
        "The parameter context['message_id'] is required.",
        id="context",
    ),
    pytest.param(
        send("image", {"caption": "c"}),
        MISSING,
        "The parameter image['id'] or image['link'] is required.",
        id="media-none",
    ),
    pytest.param(
        send("sticker", {"id": "1", "link": "https://example.com/s.webp"}),
        INVALID,
        "Only one of sticker['id'] or sticker['link'] may be set.",
        id="media-both",
    ),
    pytest.param(
        send("video", {"link": "ftp://example.com/clip.mp4"}),
        INVALID,
        "Param video['link'] must be a valid http or https URL.",
        id="media-link-scheme",
    ),
    pytest.param(
        send("image", {"id": "1", "caption": "c" * 1025}),
        INVALID,
        "Param image['caption'] must be at most 1024 characters long.",
        id="caption-too-long",
    ),
    pytest.param(
        send("location", {"longitude": 1}), MISSING, "The parameter location['latitude'] is required.", id="latitude"
    ),
    pytest.param(
        send("location", {"latitude": 90.5, "longitude": 1}),
        INVALID,
        "Param location['latitude'] must be between -90 and 90.",
        id="latitude-range",
    ),
    pytest.param(
        send("location", {"latitude": 0, "longitude": "-180.01"}),
        INVALID,
        "Param location['longitude'] must be between -180 and 180.",
        id="longitude-range",
    ),
    pytest.param(
        send("contacts", []), INVALID, "Param contacts must contain at least one contact.", id="contacts-empty"
    ),
    pytest.param(send("contacts", [{}]), MISSING, "The parameter contacts[0]['name'] is required.", id="contact-name"),
    pytest.param(
        send("contacts", [{"name": {"first_name": "B"}}]),
        MISSING,
        "The parameter contacts[0]['name']['formatted_name'] is required.",
        id="contact-formatted-name",
    ),
    pytest.param(
        send("contacts", [CONTACT | {"birthday": "1999-02-30"}]),
        INVALID,
        "Param contacts[0]['birthday'] must be a date in YYYY-MM-DD format.",
        id="contact-birthday",
    ),
    pytest.param(
        send("reaction", {"emoji": "x"}), MISSING, "The parameter reaction['message_id'] is required.", id="reaction-id"
    ),
    pytest.param(
        send("reaction", {"message_id": WAMID}), MISSING, "The parameter reaction['emoji'] is required.", id="emoji"
    ),
    pytest.param(
        {"messaging_product": "whatsapp", "status": "read"},
        MISSING,
        "The parameter message_id is required.",
        id="read-message-id",
    ),
    pytest.param(
        {"messaging_product": "whatsapp", "status": "read", "message_id": WAMID, "typing_indicator": {}},
        MISSING,
        "The parameter typing_indicator['type'] is required.",
        id="typing-indicator-type",
    ),
    pytest.param(
        send("interactive", {"body": {"text": "b"}}),
        MISSING,
        "The parameter interactive['type'] is required.",
        id="interactive-type",
    ),
    pytest.param(
        send("interactive", {"type": "product_list"}),
        UNSUPPORTED,
        ib.UNSUPPORTED_MESSAGE_TYPE,
        id="interactive-product",
    ),
    pytest.param(_interactive(REPLY_BUTTONS, action=_buttons()), INVALID, ib.BUTTONS_COUNT_INVALID, id="buttons-0"),
    pytest.param(
        _interactive(REPLY_BUTTONS, action=_buttons("a", "b", "c", "d")),
        INVALID,
        ib.BUTTONS_COUNT_INVALID,
        id="buttons-4",
    ),
    pytest.param(
        _interactive(REPLY_BUTTONS, action={}),
        MISSING,
        "The parameter interactive['action']['buttons'] is required.",
        id="buttons-missing",
    ),
    pytest.param(
        _interactive(REPLY_BUTTONS, action=_buttons("Yes", "Yes")),
        INVALID,
        ib.DUPLICATE_BUTTON_TITLE,
        id="button-title-dup",
    ),
    pytest.param(
        _interactive(REPLY_BUTTONS, action=_buttons("Yes", "No", ids=("a", "a"))),
        INVALID,
        ib.DUPLICATE_BUTTON_ID,
        id="button-id-dup",
    ),
    pytest.param(
        _interactive(REPLY_BUTTONS, action=_buttons("x" * 21)),
        INVALID,
        "Button title length invalid. Min length: 1, Max length: 20",
        id="button-title-long",
    ),
    pytest.param(
        _interactive(REPLY_BUTTONS, action=_buttons("")),
        INVALID,
        "Button title length invalid. Min length: 1, Max length: 20",
        id="button-title-empty",
    ),
    pytest.param(
        _interactive(REPLY_BUTTONS, action=_buttons("ok", ids=("i" * 257,))),
        INVALID,
        "Button id length invalid. Min length: 1, Max length: 256",
        id="button-id-long",
    ),
    pytest.param(
        _interactive(REPLY_BUTTONS, body={"text": "b" * 1025}),
        INVALID,
        "Body text length invalid. Min length: 1, Max length: 1024",
        id="button-body-long",
    ),
    pytest.param(
        _interactive(REPLY_BUTTONS, body={"text": ""}),
        INVALID,
        "Body text length invalid. Min length: 1, Max length: 1024",
        id="body-empty",
    ),
    pytest.param(
        _interactive(REPLY_BUTTONS, footer={"text": "f" * 61}),
        INVALID,
        "Footer text length invalid. Min length: 1, Max length: 60",
        id="footer-long",
    ),
    pytest.param(
        _interactive(REPLY_BUTTONS, header={"type": "text", "text": "h" * 61}),
        INVALID,
        "Header text length invalid. Min length: 1, Max length: 60",
        id="header-text-long",
    ),
    pytest.param(
        _interactive(REPLY_BUTTONS, header={"type": "image", "image": {}}),
        MISSING,
        "The parameter interactive['header']['image']['id'] or interactive['header']['image']['link'] is required.",
        id="header-media",
    ),
    pytest.param(
        _interactive(LIST, action=_sections({"title": "A", "rows": _rows(6)}, {"title": "B", "rows": _rows(5)})),
        INVALID,
        ib.ROWS_COUNT_EXCEEDED,
        id="list-11-rows",
    ),
    pytest.param(
        _interactive(LIST, action=_sections(*({"title": f"S{n}", "rows": _rows(1)} for n in range(11)))),
        INVALID,
        ib.SECTIONS_COUNT_INVALID,
        id="list-11-sections",
    ),
    pytest.param(_interactive(LIST, action=_sections()), INVALID, ib.SECTIONS_COUNT_INVALID, id="list-0-sections"),
    pytest.param(
        _interactive(LIST, action=_sections({"title": "A", "rows": []})),
        INVALID,
        ib.ROWS_COUNT_INVALID,
        id="list-0-rows",
    ),
    pytest.param(
        _interactive(LIST, action=_sections({"title": "A", "rows": _rows(1, title="t" * 25)})),
        INVALID,
        ib.ROW_TITLE_TOO_LONG,
        id="row-title-long",
    ),
    pytest.param(
        _interactive(LIST, action=_sections({"rows": [{"id": "r" * 201, "title": "t"}]})),
        INVALID,
        ib.ROW_ID_TOO_LONG,
        id="row-id-long",
    ),
    pytest.param(
        _interactive(LIST, action=_sections({"rows": _rows(1, description="d" * 73)})),
        INVALID,
        ib.ROW_DESCRIPTION_TOO_LONG,
        id="row-description-long",
    ),
    pytest.param(
        _interactive(LIST, action=_sections({"title": "A", "rows": _rows(2)}, {"title": "B", "rows": _rows(1)})),
        INVALID,
        ib.DUPLICATE_ROW_ID,
        id="row-id-dup",
    ),
    pytest.param(
        _interactive(LIST, action=_sections({"rows": _rows(1)}, {"title": "B", "rows": [{"id": "z", "title": "Z"}]})),
        MISSING,
        "The parameter interactive['action']['sections'][0]['title'] is required.",
        id="section-title-needed",
    ),
    pytest.param(
        _interactive(LIST, action=_sections({"title": "s" * 25, "rows": _rows(1)})),
        INVALID,
        ib.SECTION_TITLE_TOO_LONG,
        id="section-title-long",
    ),
    pytest.param(
        _interactive(LIST, action={"button": "b" * 21, "sections": [{"rows": _rows(1)}]}),
        INVALID,
        "Button text length invalid. Min length: 1, Max length: 20",
        id="list-button-long",
    ),
    pytest.param(
        _interactive(LIST, body={"text": "b" * 4097}),
        INVALID,
        "Body text length invalid. Min length: 1, Max length: 4096",
        id="list-body-long",
    ),
    pytest.param(
        _interactive(LIST, header={"type": "image", "image": {"id": "1"}}),
        INVALID,
        "Header type image is not supported for interactive type list",
        id="list-header-image",
    ),
    pytest.param(
        _cta(display_text="d" * 21, url="https://example.com"),
        INVALID,
        "Display text length invalid. Min length: 1, Max length: 20",
        id="cta-display-text",
    ),
    pytest.param(
        _cta(display_text="Go"),
        MISSING,
        "The parameter interactive['action']['parameters']['url'] is required.",
        id="cta-url-missing",
    ),
    pytest.param(
        _cta(display_text="Go", url="www.luckyshrub.com"),
        INVALID,
        "Param interactive['action']['parameters']['url'] must be a valid http or https URL.",
        id="cta-url",
    ),
    pytest.param(
        _flow(flow_name="booking"),
        INVALID,
        "Only one of interactive['action']['parameters']['flow_id'] or "
        "interactive['action']['parameters']['flow_name'] may be set.",
        id="flow-id-and-name",
    ),
    pytest.param(
        _flow(flow_id=None),
        MISSING,
        "The parameter interactive['action']['parameters']['flow_id'] or "
        "interactive['action']['parameters']['flow_name'] is required.",
        id="flow-no-id",
    ),
    pytest.param(
        _flow(flow_cta="c" * 21), INVALID, "Flow CTA length invalid. Min length: 1, Max length: 20", id="flow-cta-long"
    ),
    pytest.param(
        _flow(flow_action_payload={"data": {"a": 1}}),
        MISSING,
        "The parameter interactive['action']['parameters']['flow_action_payload']['screen'] is required.",
        id="flow-navigate-screen",
    ),
    pytest.param(
        _flow(flow_action_payload={"screen": "S", "data": {}}), INVALID, ib.FLOW_DATA_INVALID, id="flow-data-empty"
    ),
    pytest.param(
        _interactive(LOCATION_REQUEST, action={}),
        MISSING,
        "The parameter interactive['action']['name'] is required.",
        id="location-request-name",
    ),
    pytest.param(
        send("template", {"language": {"code": "en"}}),
        MISSING,
        "The parameter template['name'] is required.",
        id="template-name",
    ),
    pytest.param(
        send("template", {"name": "t"}),
        MISSING,
        "The parameter template['language'] is required.",
        id="template-language",
    ),
    pytest.param(
        send("template", {"name": "t", "language": {"policy": "deterministic"}}),
        MISSING,
        "The parameter template['language']['code'] is required.",
        id="template-language-code",
    ),
    pytest.param(
        _template({"type": "button", "index": "0"}),
        MISSING,
        "The parameter template['components'][0]['sub_type'] is required.",
        id="template-sub-type",
    ),
    pytest.param(
        _template({"type": "button", "sub_type": "url"}),
        MISSING,
        "The parameter template['components'][0]['index'] is required.",
        id="template-index",
    ),
    pytest.param(
        _template({"type": "button", "sub_type": "url", "index": "9" * 5000}),
        INVALID,
        "Param template['components'][0]['index'] must be between 0 and 9.",
        id="template-index-huge",
    ),
    pytest.param(
        _template({"type": "button", "sub_type": "url", "index": "10"}),
        INVALID,
        "Param template['components'][0]['index'] must be between 0 and 9.",
        id="template-index-range",
    ),
    pytest.param(
        _body_parameter({"type": "text"}), MISSING, "Parameter of type text is missing text value", id="param-text"
    ),
    pytest.param(
        _body_parameter({"type": "currency"}),
        MISSING,
        "Parameter of type currency is missing currency value",
        id="param-currency",
    ),
    pytest.param(
        _body_parameter({"type": "text", "text": "line\nbreak"}),
        PARAM,
        mb.TEMPLATE_TEXT_FORMAT_INVALID,
        id="param-newline",
    ),
    pytest.param(
        _body_parameter({"type": "text", "text": "five     spaces"}),
        PARAM,
        mb.TEMPLATE_TEXT_FORMAT_INVALID,
        id="param-spaces",
    ),
    pytest.param(
        _template(
            {
                "type": "button",
                "sub_type": "copy_code",
                "index": 0,
                "parameters": [{"type": "coupon_code", "coupon_code": "C" * 16}],
            }
        ),
        INVALID,
        "Param template['components'][0]['parameters'][0]['coupon_code'] must be at most 15 characters long.",
        id="param-coupon-long",
    ),
    pytest.param(
        _template({"type": "header", "parameters": [{"type": "image", "image": {"id": "1", "link": "https://a.b/c"}}]}),
        INVALID,
        "Only one of template['components'][0]['parameters'][0]['image']['id'] or "
        "template['components'][0]['parameters'][0]['image']['link'] may be set.",
        id="param-image-both",
    ),
    pytest.param(
        _body_parameter({"type": "currency", "currency": {"code": "USD", "amount_1000": 1}}),
        MISSING,
        "The parameter template['components'][0]['parameters'][0]['currency']['fallback_value'] is required.",
        id="param-currency-fallback",
    ),
]


@pytest.mark.parametrize(("body", "code", "details"), WHATSAPP_ERRORS)
def test_whatsapp_validation_errors(body: dict[str, Any], code: GraphErrorCode, details: str) -> None:
    error = parse_error(body)

    assert (error.code, error.details, error.message) == (code, details, code.message)


def _graph(text: str) -> str:
    return f"(#100) {text}"


GRAPH_PARAMETER_ERRORS = [
    pytest.param(None, mb.MESSAGING_PRODUCT_REQUIRED, id="body-null"),
    pytest.param([send("text", {"body": "hi"})], mb.MESSAGING_PRODUCT_REQUIRED, id="body-list"),
    pytest.param("hello", mb.MESSAGING_PRODUCT_REQUIRED, id="body-string"),
    pytest.param(7, mb.MESSAGING_PRODUCT_REQUIRED, id="body-number"),
    pytest.param({"to": "1", "text": {"body": "hi"}}, mb.MESSAGING_PRODUCT_REQUIRED, id="messaging-product-missing"),
    pytest.param(
        send("text", {"body": "hi"}, messaging_product="whatsap"),
        '(#100) Param messaging_product must be one of {WHATSAPP} - got "whatsap".',
        id="messaging-product-wrong",
    ),
    pytest.param(
        send("text", {"body": "hi"}, messaging_product=["whatsapp"]),
        "(#100) Param messaging_product must be one of {WHATSAPP} - got an array.",
        id="messaging-product-list",
    ),
    pytest.param(
        send("text", {"body": "hi"}, messaging_product=10**5000),
        "(#100) Param messaging_product must be one of {WHATSAPP} - got a number.",
        id="messaging-product-huge",
    ),
    pytest.param(
        send("text", {"body": "hi"}, messaging_product=1),
        "(#100) Param messaging_product must be one of {WHATSAPP} - got 1.",
        id="messaging-product-number",
    ),
    pytest.param(
        send("text", {"body": "hi"}, recipient_type="broadcast"),
        _graph('Param recipient_type must be one of {INDIVIDUAL, GROUP} - got "broadcast".'),
        id="recipient-type",
    ),
    pytest.param(send("text", {"body": "hi"}, to=["1"]), _graph("Param to must be a string."), id="to-list"),
    pytest.param(send("text", {"body": "hi"}) | {"type": 5}, _graph("Param type must be a string."), id="type-number"),
    pytest.param(send("text", []), _graph("Param text must be an object."), id="text-list"),
    pytest.param(send("text", {"body": {}}), _graph("Param text['body'] must be a string."), id="text-body-object"),
    pytest.param(
        send("text", {"body": "b" * 4097}),
        _graph("Param text['body'] must be at most 4096 characters long."),
        id="text-body-too-long",
    ),
    pytest.param(
        send("text", {"body": "hi", "preview_url": "yes"}),
        _graph("Param text['preview_url'] must be a boolean."),
        id="preview-url",
    ),
    pytest.param(
        {"messaging_product": "whatsapp", "status": "typing", "message_id": WAMID},
        _graph('Param status must be one of {READ} - got "typing".'),
        id="status-typing",
    ),
    pytest.param(
        {"messaging_product": "whatsapp", "status": "read", "message_id": WAMID, "typing_indicator": {"type": "audio"}},
        _graph("Param typing_indicator['type'] must be one of {TEXT} - got \"audio\"."),
        id="typing-indicator",
    ),
    pytest.param(
        send("audio", {"id": "1", "caption": "c"}),
        _graph("Param audio['caption'] is not supported for type audio."),
        id="audio-caption",
    ),
    pytest.param(
        send("image", {"id": "1", "filename": "a.png"}),
        _graph("Param image['filename'] is not supported for type image."),
        id="image-filename",
    ),
    pytest.param(
        send("location", {"latitude": "north", "longitude": 0}),
        _graph("Param location['latitude'] must be a number."),
        id="latitude-word",
    ),
    pytest.param(
        send("location", {"latitude": True, "longitude": 0}),
        _graph("Param location['latitude'] must be a number."),
        id="latitude-bool",
    ),
    pytest.param(send("contacts", {}), _graph("Param contacts must be an array."), id="contacts-object"),
    pytest.param(
        send("interactive", {"type": "slider"}),
        _graph(
            "Param interactive['type'] must be one of {BUTTON, LIST, CTA_URL, FLOW, LOCATION_REQUEST_MESSAGE} "
            '- got "slider".'
        ),
        id="interactive-type-unknown",
    ),
    pytest.param(
        _interactive(REPLY_BUTTONS, body=None),
        _graph("The parameter interactive['body'] is required."),
        id="interactive-body-missing",
    ),
    pytest.param(
        _interactive(REPLY_BUTTONS, body={}),
        _graph("The parameter interactive['body']['text'] is required."),
        id="interactive-body-text-missing",
    ),
    pytest.param(
        _interactive(REPLY_BUTTONS, action={"buttons": [{"type": "url", "reply": {"id": "a", "title": "A"}}]}),
        _graph("Param interactive['action']['buttons'][0]['type'] must be one of {REPLY} - got \"url\"."),
        id="button-type",
    ),
    pytest.param(
        _interactive(REPLY_BUTTONS, header={"type": "gif"}),
        _graph("Param interactive['header']['type'] must be one of {TEXT, IMAGE, VIDEO, DOCUMENT} - got \"gif\"."),
        id="header-type",
    ),
    pytest.param(
        _interactive(CTA_URL, action={"name": "url", "parameters": CTA_URL["action"]["parameters"]}),
        _graph("Param interactive['action']['name'] must be one of {CTA_URL} - got \"url\"."),
        id="cta-name",
    ),
    pytest.param(
        _flow(flow_message_version="2"),
        _graph("Param interactive['action']['parameters']['flow_message_version'] must be one of {3} - got \"2\"."),
        id="flow-version",
    ),
    pytest.param(
        _flow(mode="test"),
        _graph("Param interactive['action']['parameters']['mode'] must be one of {PUBLISHED, DRAFT} - got \"test\"."),
        id="flow-mode",
    ),
    pytest.param(
        _template({"type": "footer"}),
        _graph("Param template['components'][0]['type'] must be one of {HEADER, BODY, BUTTON} - got \"footer\"."),
        id="component-type",
    ),
    pytest.param(
        _template(language={"code": "en", "policy": "fallback"}),
        _graph("Param template['language']['policy'] must be one of {DETERMINISTIC} - got \"fallback\"."),
        id="language-policy",
    ),
    pytest.param(
        _template({"type": "button", "sub_type": "quick_reply", "index": "first"}),
        _graph("Param template['components'][0]['index'] must be a non-negative integer."),
        id="index-word",
    ),
    pytest.param(
        _body_parameter({"type": "currency", "currency": {"fallback_value": "$1", "code": "USD", "amount_1000": "1"}}),
        _graph("Param template['components'][0]['parameters'][0]['currency']['amount_1000'] must be an integer."),
        id="amount-1000",
    ),
    pytest.param(
        _template({"type": "body", "parameters": {"type": "text"}}),
        _graph("Param template['components'][0]['parameters'] must be an array."),
        id="parameters-object",
    ),
]


@pytest.mark.parametrize(("body", "message"), GRAPH_PARAMETER_ERRORS)
def test_graph_parameter_errors_have_no_error_data(body: object, message: str) -> None:
    error = parse_error(body)

    assert (error.code, error.message, error.details) == (PARAM, message, None)


def test_missing_messaging_product_envelope() -> None:
    error = parse_error({"to": "16505551234", "text": {"body": "hi"}})

    assert error.envelope("AULEzP4yrJyM18_EnZSCGa0") == {
        "error": {
            "message": "(#100) The parameter messaging_product is required.",
            "type": "OAuthException",
            "code": 100,
            "fbtrace_id": "AULEzP4yrJyM18_EnZSCGa0",
        }
    }


def test_row_count_envelope() -> None:
    body = _interactive(LIST, action=_sections({"title": "A", "rows": _rows(11)}))

    assert parse_error(body).envelope("AIuaBG7oaIH0NkT5zP_khJH") == {
        "error": {
            "message": "(#131009) Parameter value is not valid",
            "type": "OAuthException",
            "code": 131009,
            "error_data": {"messaging_product": "whatsapp", "details": "Total row count exceed max allowed count: 10"},
            "fbtrace_id": "AIuaBG7oaIH0NkT5zP_khJH",
        }
    }


def test_unsupported_type_envelope() -> None:
    assert parse_error(send("address", {})).envelope("A") == {
        "error": {
            "message": "(#131051) Unsupported message type",
            "type": "OAuthException",
            "code": 131051,
            "error_data": {"messaging_product": "whatsapp", "details": "Unsupported message type"},
            "fbtrace_id": "A",
        }
    }


def test_deeply_nested_extra_keys_are_copied_without_recursion() -> None:
    nested: list[Any] = []
    for _ in range(100_000):
        nested = [nested]
    body = send("text", {"body": "hi", "extra": nested})

    command = parse(body)

    assert isinstance(command, SendMessage)
    assert command.content["extra"] is not nested
    assert command.content["extra"][0][0][0] is not nested[0][0][0]


def test_lengths_count_code_points() -> None:
    emoji_title = "\U0001f44d" * 20  # 20 code points, 40 UTF-16 units

    command = parse(_interactive(REPLY_BUTTONS, action=_buttons(emoji_title)))

    assert isinstance(command, SendMessage)


# Keys from Meta's vocabulary, so that arbitrary JSON reaches the nested validators often.
VOCABULARY = sorted(
    {"messaging_product", "to", "type", "status", "message_id", "typing_indicator", "recipient_type", "context"}
    | {"biz_opaque_callback_data", "text", "body", "preview_url", "image", "id", "link", "caption", "filename"}
    | {"location", "latitude", "longitude", "contacts", "name", "formatted_name", "birthday", "reaction", "emoji"}
    | {"interactive", "header", "footer", "action", "buttons", "reply", "title", "button", "sections", "rows"}
    | {"description", "parameters", "display_text", "url", "flow_message_version", "flow_id", "flow_cta"}
    | {"flow_action", "flow_action_payload", "screen", "data", "mode", "template", "language", "code", "policy"}
    | {"components", "sub_type", "index", "currency", "amount_1000", "fallback_value", "payload", "coupon_code"}
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["whatsapp", "read", "text", "button", "list", "reply", "body", "3", "https://a.b", "0", ""])
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(VOCABULARY) | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)


@st.composite
def mutated_valid_bodies(draw: st.DrawFn) -> Any:
    body: Any = copy.deepcopy(draw(st.sampled_from(list(VALID_SENDS.values()))))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        slots = list(_slots(body))
        if not slots:
            break
        container, key = draw(st.sampled_from(slots))
        if draw(st.booleans()):
            del container[key]
        else:
            container[key] = draw(JSON)
    return body


def _slots(value: Any) -> Any:
    if isinstance(value, dict):
        for key, child in value.items():
            yield value, key
            yield from _slots(child)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield value, index
            yield from _slots(child)


def _check_total(body: Any) -> None:
    before = json.dumps(body, sort_keys=True, default=repr)
    try:
        command = parse(body)
    except GraphError as error:
        json.dumps(error.envelope("A"))
    else:
        assert isinstance(command, SendMessage | MarkMessageRead)
    assert json.dumps(body, sort_keys=True, default=repr) == before, "the request body must not be mutated"


@settings(max_examples=300, deadline=None)
@given(
    JSON
    | st.fixed_dictionaries(
        {"messaging_product": st.just("whatsapp")}, optional={k: JSON for k in VOCABULARY if k != "messaging_product"}
    )
)
def test_any_json_body_parses_or_raises_graph_error(body: Any) -> None:
    _check_total(body)


@settings(max_examples=300, deadline=None)
@given(mutated_valid_bodies())
def test_mutated_valid_bodies_parse_or_raise_graph_error(body: Any) -> None:
    _check_total(body)


def test_every_outbound_type_has_a_parser_and_no_other() -> None:
    """The domain's list of sendable types (also the scenario `send` step's keys) is what the API parses."""
    assert set(mb._PARSERS) == set(OUTBOUND_TYPES) and len(OUTBOUND_TYPES) == len(set(OUTBOUND_TYPES))
