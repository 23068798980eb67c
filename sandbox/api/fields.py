"""`fields=` projection and cursor paging, as Graph applies them to every node and edge."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from sandbox import json_bodies
from sandbox.errors import GraphError, invalid_parameter


def requested_fields(fields: str | None, default: Sequence[str]) -> list[str]:
    """Top-level names of a `fields=a,b{c},d` selection (sub-selections are answered in full)."""
    if not fields:
        return list(default)
    names: list[str] = []
    depth = 0
    current = ""
    for char in fields:
        if char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            names.append(current.strip())
            current = ""
        elif depth == 0:
            current += char
    names.append(current.strip())
    return [name.split(".")[0] for name in names if name]


def project(document: dict[str, Any], fields: str | None, default: Sequence[str]) -> dict[str, Any]:
    """The requested fields that the object has, always with `id` last, as Graph orders it.

    Fidelity: a field Meta has but the sandbox does not model is left out instead of answered.
    """
    # Graph leaves out a field that has no value rather than answering null (pywa, for one, breaks on a null enum).
    selected = {
        name: document[name]
        for name in requested_fields(fields, default)
        if name != "id" and document.get(name) is not None
    }
    if "id" in document:
        selected["id"] = document["id"]
    return selected


def _cursor(index: int, version: int | None = None) -> str:
    text = f"index:{index}" if version is None else f"version:{version}:index:{index}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _index(cursor: str, version: int | None = None, stale: GraphError | None = None) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if version is not None:
            head, _, text = text.removeprefix("version:").partition(":")
            if not (head.isascii() and head.isdigit()):
                raise ValueError(head)
            if int(head) != version and stale is not None:
                raise stale
        text = text.removeprefix("index:")
        if not (text.isascii() and text.isdigit()):
            raise ValueError(text)
        return int(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise invalid_parameter(f"Invalid cursor {cursor!r}") from error


def page(
    items: list[dict[str, Any]],
    query: dict[str, str],
    default_limit: int = 25,
    url: str | None = None,
    *,
    version: int | None = None,
    stale: GraphError | None = None,
) -> dict[str, Any]:
    """`{"data": [...], "paging": {"cursors": {...}, "next"?, "previous"?}}` for `limit`, `after`, `before` and
    `offset`. With the request's `url`, `next` and `previous` are absolute links as Meta gives them: clients (pywa's
    `Result.has_next`) page by following `next`, present only while more items follow. With a `version`, cursors
    carry it, and one cut from another version of the list is `stale` (the list changed while it was paged)."""
    limit_text = query.get("limit", str(default_limit))
    if not (limit_text.isascii() and limit_text.isdigit()) or int(limit_text) < 1:
        raise invalid_parameter("limit must be a positive integer")
    limit = min(int(limit_text), 1000)
    start = 0
    if "after" in query:
        start = _index(query["after"], version, stale) + 1
    elif "before" in query:
        start = max(_index(query["before"], version, stale) - limit, 0)
    elif query.get("offset", "").isascii() and query.get("offset", "").isdigit():
        start = int(query["offset"])
    window = items[start : start + limit]
    result: dict[str, Any] = {"data": window}
    if window:
        before, after = _cursor(start, version), _cursor(start + len(window) - 1, version)
        paging: dict[str, Any] = {"cursors": {"before": before, "after": after}}
        if url is not None:
            kept = {k: v for k, v in query.items() if k not in ("after", "before", "offset")} | {"limit": str(limit)}
            if start + len(window) < len(items):
                paging["next"] = f"{url}?{urlencode(kept | {'after': after})}"
            if start > 0:
                paging["previous"] = f"{url}?{urlencode(kept | {'before': before})}"
        result["paging"] = paging
    return result


FILTER_OPERATORS = ("EQUAL", "NOT_EQUAL", "IN", "NOT_IN")
FILTER_RULES_MAX = 10
FILTER_VALUES_MAX = 100


def _filter_value(value: Any) -> str:
    # Graph compares as text: `true` and `"true"` are the same filter value.
    return str(value).lower() if isinstance(value, bool) else str(value)


def parse_filtering(text: str | None, allowed: Sequence[str]) -> list[tuple[str, str, frozenset[str]]]:
    """`filtering=[{"field": ..., "operator": ..., "value": ...}]` as (field, operator, values) rules; anything
    else is Graph's 100 (`IN`/`NOT_IN` take an array of values, the others one value)."""
    if text is None:
        return []
    try:
        rules = json_bodies.loads(text)
    except ValueError as error:
        raise invalid_parameter("Param filtering must be a JSON array of filter objects.") from error
    if not isinstance(rules, list) or len(rules) > FILTER_RULES_MAX:
        raise invalid_parameter(f"Param filtering must be a JSON array of at most {FILTER_RULES_MAX} filter objects.")
    parsed = []
    for index, rule in enumerate(rules):
        where = f"filtering[{index}]"
        if not isinstance(rule, dict) or not {"field", "operator", "value"} <= set(rule):
            raise invalid_parameter(f"Param {where} must be an object with field, operator and value.")
        field, operator, value = rule["field"], rule["operator"], rule["value"]
        if field not in allowed:
            raise invalid_parameter(f"Param {where}['field'] must be one of {', '.join(allowed)}; got {field!r}.")
        if not isinstance(operator, str) or operator.upper() not in FILTER_OPERATORS:
            raise invalid_parameter(f"Param {where}['operator'] must be one of {', '.join(FILTER_OPERATORS)}.")
        operator = operator.upper()
        many = operator in ("IN", "NOT_IN")
        if many != isinstance(value, list) or (many and len(value) > FILTER_VALUES_MAX):
            shape = f"an array of at most {FILTER_VALUES_MAX} values" if many else "a single value"
            raise invalid_parameter(f"Param {where}['value'] must be {shape} for {operator}.")
        values = value if many else [value]
        if not all(isinstance(item, str | bool | int) for item in values):
            raise invalid_parameter(f"Param {where}['value'] must hold strings, numbers or booleans.")
        parsed.append((field, operator, frozenset(_filter_value(item) for item in values)))
    return parsed


def matches(document: dict[str, Any], rules: list[tuple[str, str, frozenset[str]]]) -> bool:
    for field, operator, values in rules:
        found = _filter_value(document.get(field)) in values
        if found != (operator in ("EQUAL", "IN")):
            return False
    return True
