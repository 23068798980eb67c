from __future__ import annotations

from typing import Any

import pytest

from scenarios.values import MISSING, ScenarioSyntaxError, lookup, match, parse_duration, substitute


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("31d", 31 * 86400), ("25h", 90000), ("90s", 90), ("1h30m", 5400), ("500ms", 0.5), ("1w", 604800), (12, 12)],
)
def test_parse_duration(text: Any, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["31 days", "-1", "d", "", None, "1x"])
def test_parse_duration_refuses(text: Any) -> None:
    with pytest.raises(ScenarioSyntaxError):
        parse_duration(text)


DOC = {"messages": [{"id": "wamid.A"}], "windows": [{"wa_id": "1", "open": False}, {"wa_id": "2", "open": True}]}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("messages[0].id", "wamid.A"),
        ("messages[-1].id", "wamid.A"),
        ("messages.0.id", "wamid.A"),
        ("windows[wa_id=2].open", True),
        ("windows[*].wa_id", ["1", "2"]),
        ("messages[3].id", MISSING),
        ("nothing.here", MISSING),
    ],
)
def test_lookup(path: str, value: Any) -> None:
    assert lookup(DOC, path) == value or (value is MISSING and lookup(DOC, path) is MISSING)


def test_substitute_keeps_types_and_interpolates() -> None:
    variables = {"msg": "wamid.A", "n": 3, "doc": DOC}
    assert substitute(
        {"id": "$msg", "count": "$n", "text": "n=${n} $$5", "deep": "${doc.messages[0].id}"}, variables
    ) == {"id": "wamid.A", "count": 3, "text": "n=3 $5", "deep": "wamid.A"}


def test_substitute_unknown_variable_names_the_known_ones() -> None:
    with pytest.raises(ScenarioSyntaxError, match=r"\$nope is not defined .* defined: msg"):
        substitute("$nope", {"msg": 1})


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ({"gte": 2}, 3),
        ({"regex": "^wamid\\."}, "wamid.X"),
        ({"contains": "to"}, "The parameter to is required."),
        ({"contains": {"a": 1}}, [{"a": 1, "b": 2}]),
        ({"exists": False}, MISSING),
        ({"one_of": [1, 2]}, 2),
        ({"length": 2}, [1, 2]),
        ({"a": 1}, {"a": 1, "b": 2}),
        (1700000000, "1700000000"),
    ],
)
def test_match_agrees(expected: Any, actual: Any) -> None:
    assert match(expected, actual) == []


def test_match_explains_the_difference() -> None:
    assert match({"status": "read"}, {"status": "sent"}) == ["status: expected read, got sent"]
    assert match({"gte": 5}, 3, "attempts") == ["attempts: expected gte 5, got 3"]
    assert match(True, 1) != []
