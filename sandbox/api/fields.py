"""`fields=` projection and cursor paging, as Graph applies them to every node and edge."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from sandbox.errors import invalid_parameter


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


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"index:{index}".encode()).decode().rstrip("=")


def _index(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().removeprefix("index:")
        if not (text.isascii() and text.isdigit()):
            raise ValueError(text)
        return int(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise invalid_parameter(f"Invalid cursor {cursor!r}") from error


def page(items: list[dict[str, Any]], query: dict[str, str], default_limit: int = 25) -> dict[str, Any]:
    """`{"data": [...], "paging": {"cursors": {...}, "next"?}}` for `limit`, `after`, `before` and `offset`."""
    limit_text = query.get("limit", str(default_limit))
    if not (limit_text.isascii() and limit_text.isdigit()) or int(limit_text) < 1:
        raise invalid_parameter("limit must be a positive integer")
    limit = min(int(limit_text), 1000)
    start = 0
    if "after" in query:
        start = _index(query["after"]) + 1
    elif "before" in query:
        start = max(_index(query["before"]) - limit, 0)
    elif query.get("offset", "").isascii() and query.get("offset", "").isdigit():
        start = int(query["offset"])
    window = items[start : start + limit]
    result: dict[str, Any] = {"data": window}
    if window:
        result["paging"] = {"cursors": {"before": _cursor(start), "after": _cursor(start + len(window) - 1)}}
    return result
