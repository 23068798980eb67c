"""JSON a caller sends (Graph bodies, form values, control-plane bodies), parsed within a bound on nesting.

Both planes parse through `loads`, so nothing nested deeper than `MAX_DEPTH` is ever stored: a stored document is
rendered again and again (the tenant's state, the journal, webhooks), and orjson refuses to write one deeper than
254 levels, while Python's own encoder and the domain's walkers recurse. Meta's deepest documented payloads (a
carousel template send: body → template → components → component → cards → card → components → component →
parameters → parameter → image) nest 11 levels; 64 leaves room for a Flow's own `data` and refuses what no client
sends. The check walks the parsed value with an explicit stack (it cannot recurse to death), and only when the
text has enough brackets to be that deep; orjson itself stops at 1,024 levels without recursing in Python.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["MAX_DEPTH", "TooDeep", "depth_exceeds", "loads"]

MAX_DEPTH = 64
_CONTAINERS = (dict, list)  # what orjson.loads gives for an object or an array, never a subclass


class TooDeep(ValueError):
    """The document is valid JSON nested deeper than `MAX_DEPTH` arrays and objects."""

    def __init__(self) -> None:
        super().__init__(f"JSON nested deeper than {MAX_DEPTH} levels of arrays and objects")


def depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether `value` nests more than `limit` arrays and objects (`{}` is one level, `{"a": []}` two)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def loads(raw: bytes | str) -> Any:
    """`orjson.loads(raw)`, refusing a document nested deeper than `MAX_DEPTH` with `TooDeep`; malformed JSON
    raises `orjson.JSONDecodeError` (both are `ValueError`)."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        if "depth limit" in str(error):  # orjson's own stop at 1,024 levels
            raise TooDeep() from None
        raise
    except RecursionError:  # orjson does not recurse in Python; this keeps a future parser honest
        raise TooDeep() from None
    # Deeper than MAX_DEPTH takes more than 2 * MAX_DEPTH brackets: a shorter text (most sends) is not counted.
    if len(raw) <= 2 * MAX_DEPTH or type(value) not in _CONTAINERS:
        return value
    brackets = raw.count("{") + raw.count("[") if isinstance(raw, str) else raw.count(b"{") + raw.count(b"[")
    if brackets > MAX_DEPTH and depth_exceeds(value):
        raise TooDeep()
    return value
