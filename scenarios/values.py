"""The small languages inside scenario files: durations, JSON paths, `$variables` and value matchers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sandbox.domain.errors import is_number
from sandbox.services.faults import compile_regex

__all__ = [
    "MATCHERS",
    "MISSING",
    "ScenarioSyntaxError",
    "is_matcher",
    "lookup",
    "match",
    "parse_duration",
    "render",
    "substitute",
]


class ScenarioSyntaxError(ValueError):
    """A scenario that cannot be run as written: the message says where and what to write instead."""


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|w|d|h|m|s)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}


def parse_duration(value: Any) -> float:
    """`31d`, `25h`, `90s`, `1h30m`, `500ms`, `1w` or a plain number of seconds → seconds."""
    if is_number(value):
        if value < 0:
            raise ScenarioSyntaxError(f"a duration cannot be negative: {value}")
        return float(value)
    if not isinstance(value, str):
        raise ScenarioSyntaxError(f"a duration is a number of seconds or text like 31d, 25h, 90s; got {value!r}")
    text = value.strip().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ScenarioSyntaxError(f"cannot read {value!r} as a duration; write e.g. 31d, 25h, 90s, 1h30m, 500ms")
    return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)


# -- JSON paths: `messages[0].id`, `error.error_data.details`, `templates[name=hello_world].status`, `data[*].id`

_TOKEN = re.compile(r"\.?([^.\[\]]+)|\[([^\]]*)\]")


def _tokens(path: str) -> list[str | int | tuple[str, str] | None]:
    tokens: list[str | int | tuple[str, str] | None] = []
    position = 0
    while position < len(path):
        found = _TOKEN.match(path, position)
        if found is None:
            raise ScenarioSyntaxError(f"cannot read the path {path!r} at {path[position:]!r}")
        name, index = found.groups()
        if name is not None:
            tokens.append(name)
        elif index == "*":
            tokens.append(None)
        elif re.fullmatch(r"-?\d+", index):
            tokens.append(int(index))
        elif "=" in index:
            key, _, wanted = index.partition("=")
            tokens.append((key.strip(), wanted.strip().strip("'\"")))
        else:
            tokens.append(index.strip("'\""))
        position = found.end()
    return tokens


def lookup(document: Any, path: str) -> Any:
    """The value at `path` in `document`, or `MISSING`. `[*]` maps the rest of the path over a list."""
    if path in ("", "$", "."):
        return document
    return _walk(document, _tokens(path))


def _walk(current: Any, tokens: list[str | int | tuple[str, str] | None]) -> Any:
    for position, token in enumerate(tokens):
        if token is None:
            if not isinstance(current, list):
                return MISSING
            rest = tokens[position + 1 :]
            return [_walk(item, rest) for item in current]
        if isinstance(token, tuple):
            key, wanted = token
            if not isinstance(current, list):
                return MISSING
            current = next(
                (item for item in current if isinstance(item, dict) and str(item.get(key)) == wanted), MISSING
            )
        elif isinstance(token, int):
            if not isinstance(current, list) or not -len(current) <= token < len(current):
                return MISSING
            current = current[token]
        else:
            if isinstance(current, list) and token.isdigit():
                index = int(token)
                current = current[index] if index < len(current) else MISSING
            elif isinstance(current, dict) and token in current:
                current = current[token]
            else:
                return MISSING
        if current is MISSING:
            return MISSING
    return current


# -- variables: `$msg` (keeps the value's type) and `${msg}` / `${msg.path}` inside text

_WHOLE = re.compile(r"^\$(?:\{([A-Za-z_][\w.\[\]=*-]*)\}|([A-Za-z_]\w*))$")
_INLINE = re.compile(r"\$\$|\$\{([A-Za-z_][\w.\[\]=*-]*)\}|\$([A-Za-z_]\w*)")


def _variable(variables: Mapping[str, Any], reference: str) -> Any:
    name, _, rest = reference.partition(".")
    head, bracket, tail = name.partition("[")
    if head not in variables:
        known = ", ".join(sorted(variables)) or "none yet"
        raise ScenarioSyntaxError(f"${head} is not defined (save it from an earlier step); defined: {known}")
    value = variables[head]
    path = (bracket + tail if bracket else "") + ("." + rest if rest else "")
    if path:
        value = lookup(value, path.lstrip("."))
        if value is MISSING:
            raise ScenarioSyntaxError(f"${{{reference}}}: {head} has no {path.lstrip('.')!r}")
    return value


def substitute(value: Any, variables: Mapping[str, Any]) -> Any:
    """Replace `$name` / `${name}` everywhere in `value` (keys too); `$$` is a literal `$`."""
    if isinstance(value, str):
        whole = _WHOLE.match(value)
        if whole:
            return _variable(variables, whole.group(1) or whole.group(2))
        if "$" not in value:
            return value

        def replace(found: re.Match[str]) -> str:
            if found.group(0) == "$$":
                return "$"
            return render(_variable(variables, found.group(1) or found.group(2)))

        return _INLINE.sub(replace, value)
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    if isinstance(value, dict):
        return {substitute(key, variables): substitute(item, variables) for key, item in value.items()}
    return value


def render(value: Any) -> str:
    """A value as a person reads it in a failure message: JSON-like, short."""
    if value is MISSING:
        return "(missing)"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(_short(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_short(item)}" for key, item in value.items()) + "}"
    return str(value)


def _short(value: Any) -> str:
    text = render(value)
    return text if len(text) <= 120 else text[:117] + "..."


# -- matchers: a literal compares equal (a mapping compares the keys it names); `{matcher: argument}` otherwise

MATCHERS = frozenset({
    "equals", "not", "contains", "regex", "starts_with", "gt", "gte", "lt", "lte", "exists", "length", "one_of",
    "any",
})  # fmt: skip


def is_matcher(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in MATCHERS


def match(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Mismatches between `expected` and `actual`, one line each (`where` names the place); empty when they agree."""
    label = where or "value"
    if is_matcher(expected):
        ((name, argument),) = expected.items()
        if _matcher(name, argument, actual):
            return []
        return [f"{label}: expected {name} {render(argument)}, got {render(actual)}"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{label}: expected an object with {render(expected)}, got {render(actual)}"]
        problems: list[str] = []
        for key, wanted in expected.items():
            problems += match(wanted, actual.get(key, MISSING), f"{where}.{key}" if where else str(key))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{label}: expected {render(expected)}, got {render(actual)}"]
        problems = []
        for index, (wanted, got) in enumerate(zip(expected, actual, strict=True)):
            problems += match(wanted, got, f"{where}[{index}]")
        return problems
    return [] if _equal(expected, actual) else [f"{label}: expected {render(expected)}, got {render(actual)}"]


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, str):
        return str(expected) == actual  # Meta sends timestamps and ids as strings; YAML reads them as numbers
    if isinstance(expected, str) and isinstance(actual, int | float):
        return expected == str(actual)
    return bool(expected == actual)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _matcher(name: str, argument: Any, actual: Any) -> bool:
    if name == "any":
        return actual is not MISSING
    if name == "exists":
        return (actual is not MISSING) == bool(argument)
    if name == "equals":
        return not match(argument, actual)
    if name == "not":
        return bool(match(argument, actual))
    if name == "one_of":
        return any(not match(option, actual) for option in argument)
    if name == "contains":
        if isinstance(actual, str):
            return isinstance(argument, str) and argument in actual
        if isinstance(actual, list):
            return any(not match(argument, item) for item in actual)
        if isinstance(actual, dict):
            return not match(argument, actual) if isinstance(argument, dict) else argument in actual
        return False
    if name == "regex":
        # RE2, as for fault paths: a scenario's pattern runs on server answers and cannot backtrack.
        return isinstance(actual, str | int | float) and compile_regex(str(argument)).matches(str(actual))
    if name == "starts_with":
        return isinstance(actual, str) and actual.startswith(str(argument))
    if name == "length":
        return hasattr(actual, "__len__") and actual is not MISSING and not match(argument, len(actual))
    left, right = _number(actual), _number(argument)
    if left is None or right is None:
        return False
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[name]
