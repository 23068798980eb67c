"""The control plane's value readers (sandbox/control/parse.py): each refuses the wrong kind, a missing required
field and a value out of bounds with `Invalid`, naming the field (with its path) and what it must be."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

import pytest

from sandbox.control.parse import Fields, choices_of, describe, query_integer
from sandbox.domain.errors import Invalid
from sandbox.errors import GraphErrorCode

Colour = Literal["red", "green"]


class Size(StrEnum):
    SMALL = "small"
    LARGE = "large"


def refused(read: Any, *complaints: str) -> str:
    with pytest.raises(Invalid) as caught:
        read()
    for complaint in complaints:
        assert complaint in caught.value.message, caught.value.message
    return caught.value.message


def test_text() -> None:
    body = Fields({"name": "acme", "long": "x" * 11, "number": 5, "empty": ""})
    assert body.text("name", max_length=10) == "acme"
    assert body.text("absent", max_length=10) is None
    assert body.text("empty", max_length=10, min_length=0) == ""
    refused(lambda: body.text("long", max_length=10), "long must be", "at most 10 characters")
    refused(lambda: body.text("number", max_length=10), "number must be a non-empty string")
    refused(lambda: body.text("empty", max_length=10), "empty must be a non-empty string")
    refused(lambda: body.text("absent", max_length=10, required=True), "absent is required")


def test_number() -> None:
    body = Fields({"rate": 2, "flag": True, "text": "2", "big": 1e12, "zero": 0})
    assert body.number("rate", low=0, high=10) == 2.0
    assert body.number("absent", low=0, high=10, default=1.5) == 1.5
    for key in ("flag", "text", "big"):
        refused(lambda key=key: body.number(key, low=0, high=10), f"{key} must be a number between 0 and 10")
    refused(lambda: body.number("zero", low=0, high=10, above=True), "greater than 0 (at most 10)")
    refused(lambda: body.number("absent", low=0, high=1, required=True), "absent is required")


def test_integer() -> None:
    body = Fields({"n": 3, "flag": False, "float": 3.0, "huge": 10**30})
    assert body.integer("n", low=1, high=5) == 3
    assert body.integer("absent", low=1, high=5, default=4) == 4
    for key in ("flag", "float", "huge"):
        refused(lambda key=key: body.integer(key, low=1, high=5), f"{key} must be an integer between 1 and 5")
    refused(lambda: body.integer("n", low=4, high=5, what="four or five"), "n must be four or five")


def test_flag() -> None:
    body = Fields({"on": True, "one": 1, "yes": "yes"})
    assert body.flag("on") is True
    assert body.flag("absent", default=False) is False
    refused(lambda: body.flag("one"), "one must be true or false")
    refused(lambda: body.flag("yes"), "yes must be true or false")


def test_choice_from_a_literal_an_enum_and_an_int_enum() -> None:
    body = Fields({"colour": "red", "size": "large", "code": 131026, "bool": True, "float": 131026.0})
    assert body.choice("colour", Colour) == "red"
    assert body.choice("size", Size) is Size.LARGE
    assert body.choice("code", GraphErrorCode) is GraphErrorCode.MESSAGE_UNDELIVERABLE
    assert body.choice("absent", Colour, default="green") == "green"
    refused(lambda: body.choice("size", Colour), "size must be one of red, green")
    refused(lambda: body.choice("absent", Colour, required=True), "absent is required")
    # `True == 1` and `131026.0 == 131026`, but neither is a member of the set.
    refused(lambda: body.choice("bool", GraphErrorCode, what="a code"), "bool must be a code")
    refused(lambda: body.choice("float", GraphErrorCode, what="a code"), "float must be a code")
    assert choices_of(frozenset({"b", "a"})) == ("a", "b")
    with pytest.raises(TypeError):
        choices_of(str)


def test_time() -> None:
    body = Fields({"at": "2026-01-05T09:00:00Z", "naive": "2026-01-05T09:00:00", "bad": "later", "n": 5})
    assert body.time("at") == datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert body.time("naive") == datetime(2026, 1, 5, 9, tzinfo=UTC)
    for key in ("bad", "n"):
        refused(lambda key=key: body.time(key), f"{key} must be an RFC 3339 time")
    refused(lambda: Fields({"at": "2" * 100}).time("at"), "at must be an RFC 3339 time")
    refused(lambda: body.time("absent", required=True), "absent is required")


def test_items() -> None:
    def word(value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise Invalid(f"{name} must be a string")
        return value

    body = Fields({"words": ["a", "b"], "many": ["a"] * 4, "mixed": ["a", 1], "none": [], "one": "a"})
    assert body.items("words", word, max_items=3) == ("a", "b")
    refused(lambda: body.items("many", word, max_items=3), "many must be a list of at most 3 items")
    refused(lambda: body.items("none", word, min_items=1, max_items=3), "none must be a list of 1 to 3 items")
    refused(lambda: body.items("one", word, max_items=3), "one must be a list")
    refused(lambda: body.items("mixed", word, max_items=3), "mixed[1] must be a string")


def test_nested_objects_name_their_fields_with_the_path() -> None:
    body = Fields({"latency": {"spec": {"min": -1}}, "flat": 3})
    spec = body.object("latency")
    assert spec is not None
    inner = spec.object("spec")
    assert inner is not None
    refused(lambda: inner.number("min", low=0, high=10), "latency.spec.min must be a number between 0 and 10")
    refused(lambda: body.object("flat"), "flat must be an object")
    refused(lambda: body.object("flat", what="{...}"), "flat must be {...}")
    refused(lambda: body.object("absent", required=True), "absent is required")


def test_unknown_fields() -> None:
    refused(lambda: Fields({"a": 1, "zz": 2}).only(("a", "b")), "unknown field(s): zz; known: a, b")
    refused(lambda: Fields({"zz": 2}, "match").only(("a",), list_known=False), "unknown match field(s): zz")
    Fields({"a": 1}).only(("a", "b"))


def test_strings() -> None:
    assert Fields({"h": {"A": "b"}}).strings("h", max_items=2, max_length=5) == {"A": "b"}
    assert Fields({}).strings("h", max_items=2, max_length=5) == {}
    for value in ({"A": 1}, {"A": "x" * 6}, {"A": "", "B": "", "C": ""}, ["A"]):
        refused(lambda value=value: Fields({"h": value}).strings("h", max_items=2, max_length=5), "h must be an object")


@pytest.mark.parametrize("text", ["0", "-3", "x", "²", "1.5", "9" * 40])
def test_query_integer_refuses(text: str) -> None:
    refused(lambda: query_integer({"limit": text}, "limit", low=1, high=10, default=5, what="positive"), "limit must")


def test_query_integer_caps_at_its_bound() -> None:
    assert query_integer({"limit": "500"}, "limit", low=1, high=10, default=5, what="positive") == 10
    assert query_integer({}, "limit", low=1, high=10, default=5, what="positive") == 5


def _every_reader(body: Fields) -> None:
    body.only(("name", "size", "rate", "count", "on", "at", "nested", "list", "labels", "from"))
    body.text("name", max_length=8, required=True, pattern=re.compile(r"^[a-z]+$"))
    body.choice("size", Size, required=True)
    body.number("rate", low=0, high=5, above=True)
    body.integer("count", low=1, high=9, default=3)
    body.flag("on", required=True)
    body.time("at")
    nested = body.object("nested")
    assert nested is not None
    nested.number("value", low=0, high=1, required=True)
    body.items("list", lambda item, name: item, max_items=4, min_items=1)
    body.strings("labels", max_items=2, max_length=16)
    body.wa_id("from")
    raise Invalid("a check across fields, after every read")


def test_describe_reads_each_readers_bounds_into_json_schema() -> None:
    schema = describe(_every_reader)
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["from", "name", "on", "size"]
    properties = schema["properties"]
    assert properties["name"] == {"type": "string", "minLength": 1, "maxLength": 8, "pattern": "^[a-z]+$"}
    assert properties["size"] == {"enum": ["small", "large"]}
    assert properties["rate"] == {"type": "number", "exclusiveMinimum": 0, "maximum": 5}
    assert properties["count"] == {"type": "integer", "minimum": 1, "maximum": 9}
    assert properties["on"] == {"type": "boolean"}
    assert properties["at"]["format"] == "date-time"
    assert properties["nested"] == {
        "type": "object",
        "properties": {"value": {"type": "number", "minimum": 0, "maximum": 1}},
        "required": ["value"],
        "additionalProperties": True,
    }
    assert properties["list"] == {"type": "array", "minItems": 1, "maxItems": 4}
    assert properties["labels"]["maxProperties"] == 2
    assert properties["from"]["minLength"] == 7


def test_a_body_without_only_admits_other_fields() -> None:
    assert describe(lambda body: body.text("name", max_length=3)) == {
        "type": "object",
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 3}},
        "additionalProperties": True,
    }
