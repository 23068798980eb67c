"""Form editors generated from the control plane's own description: a JSON Schema becomes labelled inputs.

The policy's schemas come from its knobs' declarations (`policy.knob_schema`, what `PATCH .../policy` is described
with); the fault's from its parser run over `Described` (what `POST .../faults` is described with). So an input's
type, bounds and choices are the ones the route enforces, and a new knob or fault field gets its input unasked.

A widget is a plain dict the `_form.html` macro renders: `kind` (number, checkbox, select, text, pair, numbers,
strings, or group for an object), `path` (the field's dotted path in the JSON body; `static/dashboard.js` builds the
body from it), `label`, `help`, `attrs` (HTML attributes), `value`, `choices`, `children`; `part` names the unit a
changed-only form sends whole (a knob: both halves of a span, every level of a levels knob).
"""

from __future__ import annotations

import inspect
from dataclasses import fields
from typing import Any

from sandbox.control.faults import parse_fault
from sandbox.control.parse import describe
from sandbox.control.policy import knob_schema
from sandbox.domain.policy import Policy
from sandbox.errors import GraphErrorCode

Widget = dict[str, Any]


def _id(path: str) -> str:
    return "f-" + path.replace(".", "-").replace("_", "-")


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _bounds(schema: dict[str, Any]) -> str:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    if low is None and high is None:
        return ""
    above = " (excluded)" if "exclusiveMinimum" in schema else ""
    below = " (excluded)" if "exclusiveMaximum" in schema else ""
    return f"{_shown(low)}{above} to {_shown(high)}{below}"


def widget(
    schema: dict[str, Any],
    path: str,
    value: Any = None,
    *,
    label: str | None = None,
    help: str = "",
    part: str | None = None,
    labels: dict[str, dict[Any, str]] | None = None,
) -> Widget | None:
    """The input for one value of `schema` at `path` (None for a field the schema says nothing about)."""
    labels = labels or {}
    base: Widget = {
        "path": path,
        "id": _id(path),
        "label": label or path.rsplit(".", 1)[-1],
        "help": help or schema.get("description", ""),
        "part": part or path,
        "attrs": {},
        "value": value,
    }
    kind = schema.get("type")
    if "enum" in schema:
        named = labels.get(path, {})
        choices = [(_shown(option), named.get(option, _shown(option))) for option in schema["enum"]]
        numeric = all(isinstance(option, int) for option in schema["enum"])
        return base | {"kind": "select", "choices": choices, "value": _shown(value), "numeric": numeric}
    if kind in ("number", "integer"):
        attrs = {"step": "1" if kind == "integer" else "any"}
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        attrs |= ({"min": _shown(low)} if low is not None else {}) | ({"max": _shown(high)} if high is not None else {})
        return base | {"kind": "number", "attrs": attrs, "value": _shown(value), "bounds": _bounds(schema)}
    if kind == "boolean":
        return base | {"kind": "checkbox", "value": bool(value)}
    if kind == "string":
        attrs = {"maxlength": str(schema.get("maxLength", 1024))}
        return base | {"kind": "text", "attrs": attrs, "value": "" if value is None else str(value)}
    if kind == "array":
        items = schema.get("items", {})
        bounds = _bounds(items)
        if schema.get("minItems") == schema.get("maxItems") == 2:
            halves = [
                widget(items, f"{path}.{index}", (value or [None, None])[index], label=name, part=base["part"])
                for index, name in enumerate(("min", "max"))
            ]
            return base | {"kind": "pair", "children": halves, "bounds": bounds}
        text = ", ".join(_shown(item) for item in value or [])
        most = schema.get("maxItems")
        return base | {"kind": "numbers", "value": text, "bounds": bounds, "most": most}
    if kind == "object" and "properties" in schema:
        children = [
            child
            for key, sub in schema["properties"].items()
            if (child := widget(sub, f"{path}.{key}" if path else key, (value or {}).get(key), labels=labels))
            is not None
        ]
        if part is not None:  # a knob made of several inputs (levels): the knob is sent whole
            for child in children:
                child["part"] = part
        return base | {"kind": "group", "children": children}
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        lines = "\n".join(f"{key}: {item}" for key, item in (value or {}).items())
        return base | {"kind": "strings", "value": lines, "most": schema.get("maxProperties")}
    return None


def _plain(value: Any) -> str:
    """A knob's value as its hint shows it: `[0.05, 0.3]`, `STANDARD 80, HIGH 1000`, `true`."""
    if isinstance(value, list):
        return "[" + ", ".join(_plain(item) for item in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{key} {_plain(item)}" for key, item in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    return _shown(value)


def policy_groups(policy: Policy) -> list[dict[str, Any]]:
    """The policy editor: one group per policy group, each knob an input holding its current value."""
    current = policy.snapshot()
    docs = {f.name: (inspect.getdoc(getattr(policy, f.name)) or "").split("\n\n")[0] for f in fields(Policy)}
    groups: dict[str, dict[str, Any]] = {}
    for knob in Policy.describe():
        group, name = knob["group"], knob["name"]
        path = f"{group}.{name}"
        unit = f" ({knob['unit']})" if knob["unit"] else ""
        found = widget(knob_schema(knob), path, current[group][name], label=name, part=path)
        if found is None:  # every knob kind has a schema (knob_schema raises otherwise)
            continue
        changed = current[group][name] != knob["default"]
        found["help"] = f"{knob['description']}{unit}" + (f" · default {_plain(knob['default'])}" if changed else "")
        entry = groups.setdefault(group, {"name": group, "description": docs.get(group, ""), "knobs": []})
        entry["knobs"].append(found)
    return list(groups.values())


# What each fault field does, in a line (docs/limits-and-faults.md "Fault injection" says it in full); the inputs'
# types and bounds come from the parser's description.
FAULT_HELP = {
    "match": "every criterion given must hold; none catches every Graph call",
    "match.method": "GET, POST or DELETE",
    "match.path": "a glob over the path without the version; * crosses /, e.g. /*/messages",
    "match.path_regex": "an RE2 regular expression, searched in the path",
    "match.phone_number_id": "the number the call is about",
    "match.recipient": "a customer's number, compared as digits",
    "match.type": "the message type of a send: text, template, image, ...",
    "match.template": "the template name of a send",
    "error": "the Graph error answered",
    "error.code": "GET /_sandbox/errors lists them",
    "error.details": "the answer's error_data.details",
    "error.subcode": "the answer's error_subcode",
    "error.mode": "sync: the call fails; async: accepted, then a failed status",
    "mode": "the same as error.mode",
    "http_status": "with an error, its HTTP status; alone, a fitting Graph error",
    "latency_ms": "a fixed value, or a distribution's parameters",
    "latency_ms.distribution": "fixed: value; uniform: min, max; normal: mean, stddev; exponential: mean",
    "drop_connection": "close the connection without an answer",
    "headers": "extra response headers",
    "times": "how many calls it fires on (empty: every one)",
    "probability": "the chance it fires on a matching call (empty: 1)",
}


def _helped(widgets: list[Widget], help: dict[str, str]) -> list[Widget]:
    for found in widgets:
        extra = help.get(found["path"])
        if extra:
            found["help"] = f"{extra} · {found['help']}" if found["help"] else extra
        _helped(found.get("children", []), help)
    return widgets


def fault_fields() -> list[Widget]:
    """The fault editor: every field `POST .../faults` reads, as its parser describes them."""
    labels = {"error.code": {int(code): f"{int(code)} {code.title}" for code in GraphErrorCode}}
    described = widget(describe(parse_fault), "", labels=labels)
    return _helped(described["children"] if described else [], FAULT_HELP)
