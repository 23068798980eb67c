"""Small request-body helpers shared by the Graph handlers; every failure is a `GraphError` with Meta's code.

Two wordings exist on the wire, and the helpers keep them apart:

* Graph's own parameter checks (wrong JSON type, value outside an enum) answer `(#100) Param … .` as the
  `message`, with no `error_data` — e.g. `(#100) Param text['body'] must be a string.` (observed).
* WhatsApp's checks answer `(#131008) Required parameter is missing` / `(#131009) Parameter value is not valid`
  with the explanation in `error_data.details`.

Paths are tuples (`("template", "components", 0, "type")`) rendered the way Graph names nested parameters:
`template['components'][0]['type']`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping
from typing import Any

from sandbox.domain.errors import is_integer
from sandbox.errors import GraphError, GraphErrorCode, parameter_value_invalid, required_parameter

JSONObject = dict[str, Any]
Path = tuple[str | int, ...]

# One host character, then anything but space: the same URLs as `[^\s/?#]+[^\s]*`, without its quadratic backtracking.
_URL = re.compile(r"https?://[^\s/?#][^\s]*", re.IGNORECASE)
_ASCII_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def param_name(path: Path) -> str:
    head, *rest = path
    return str(head) + "".join(f"[{part}]" if isinstance(part, int) else f"['{part}']" for part in rest)


def graph_param_error(text: str) -> GraphError:
    """Graph rejected the parameter before WhatsApp saw it: `(#100) <text>` and no `error_data`."""
    return GraphError(GraphErrorCode.INVALID_PARAMETER, None, message=f"(#100) {text}")


def required_details(path: Path) -> str:
    return f"The parameter {param_name(path)} is required."


def length_invalid(label: str, minimum: int, maximum: int) -> str:
    """WhatsApp's wording for interactive lengths, e.g. `Button title length invalid. Min length: 1, Max length: 20`."""
    return f"{label} length invalid. Min length: {minimum}, Max length: {maximum}"


def require(obj: Mapping[str, Any], key: str, path: Path) -> Any:
    """`obj[key]`, where absent and JSON `null` both count as missing (131008)."""
    value = obj.get(key)
    if value is None:
        raise required_parameter(required_details((*path, key)))
    return value


def as_object(value: Any, path: Path) -> JSONObject:
    if not isinstance(value, dict):
        raise graph_param_error(f"Param {param_name(path)} must be an object.")
    return value


def as_list(value: Any, path: Path) -> list[Any]:
    if not isinstance(value, list):
        raise graph_param_error(f"Param {param_name(path)} must be an array.")
    return value


def as_str(value: Any, path: Path) -> str:
    if not isinstance(value, str):
        raise graph_param_error(f"Param {param_name(path)} must be a string.")
    return value


def as_bool(value: Any, path: Path) -> bool:
    if not isinstance(value, bool):
        raise graph_param_error(f"Param {param_name(path)} must be a boolean.")
    return value


def as_index(value: Any, path: Path) -> int:
    """A non-negative integer given as a JSON number or as a string of ASCII digits (Graph accepts both)."""
    if is_integer(value) and value >= 0:
        return value
    if isinstance(value, str) and _ASCII_DIGITS.fullmatch(value):
        digits = value.lstrip("0") or "0"
        # Python refuses to parse more than 4300 digits; anything past 18 is out of every range anyway.
        return int(digits) if len(digits) <= 18 else 10**18
    raise graph_param_error(f"Param {param_name(path)} must be a non-negative integer.")


def as_int(value: Any, path: Path) -> int:
    if not is_integer(value):
        raise graph_param_error(f"Param {param_name(path)} must be an integer.")
    return value


def as_number(value: Any, path: Path) -> float:
    """A JSON number or a numeric string; NaN and infinities are not numbers to Graph."""
    number: float | None = None
    if is_integer(value):
        number = float(value) if abs(value) < 2**1023 else math.inf
    elif isinstance(value, float):
        number = value
    elif isinstance(value, str) and _DECIMAL.fullmatch(value):
        number = float(value)
    if number is None or not math.isfinite(number):
        raise graph_param_error(f"Param {param_name(path)} must be a number.")
    return number


def object_at(obj: Mapping[str, Any], key: str, path: Path) -> JSONObject:
    return as_object(require(obj, key, path), (*path, key))


def list_at(obj: Mapping[str, Any], key: str, path: Path) -> list[Any]:
    return as_list(require(obj, key, path), (*path, key))


def required_str(obj: Mapping[str, Any], key: str, path: Path) -> str:
    """A required string; the empty string is as missing as an absent key."""
    value = as_str(require(obj, key, path), (*path, key))
    if not value:
        raise required_parameter(required_details((*path, key)))
    return value


def optional_str(obj: Mapping[str, Any], key: str, path: Path) -> str | None:
    value = obj.get(key)
    return None if value is None else as_str(value, (*path, key))


def optional_object(obj: Mapping[str, Any], key: str, path: Path) -> JSONObject | None:
    value = obj.get(key)
    return None if value is None else as_object(value, (*path, key))


def one_of(value: Any, allowed: Collection[str], path: Path) -> str:
    """Graph's enum check, case-insensitive as Graph's enums are; returns the lower-case member.

    Wording as observed for `messaging_product`: `Param messaging_product must be one of {WHATSAPP} - got "x".`
    """
    if isinstance(value, str) and value.lower() in allowed:
        return value.lower()
    members = ", ".join(member.upper() for member in allowed)
    raise graph_param_error(f"Param {param_name(path)} must be one of {{{members}}} - got {_display(value)}.")


def _display(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if is_integer(value) and abs(value) >= 10**100:
        return "a number"
    return json.dumps(value, ensure_ascii=False)


def max_length(value: str, limit: int, path: Path) -> str:
    """Lengths count code points, as Meta counts them (Python's `len`)."""
    if len(value) > limit:
        raise parameter_value_invalid(f"Param {param_name(path)} must be at most {limit} characters long.")
    return value


def length_between(value: str, label: str, minimum: int, maximum: int) -> str:
    if not minimum <= len(value) <= maximum:
        raise parameter_value_invalid(length_invalid(label, minimum, maximum))
    return value


def http_url(value: Any, path: Path) -> str:
    url = as_str(value, path)
    if not _URL.fullmatch(url):
        raise parameter_value_invalid(f"Param {param_name(path)} must be a valid http or https URL.")
    return url


def media_object(value: Any, path: Path) -> JSONObject:
    """A media reference: exactly one of an uploaded media `id` or a public `link`."""
    media = as_object(value, path)
    media_id, link = media.get("id"), media.get("link")
    either = f"{param_name((*path, 'id'))} or {param_name((*path, 'link'))}"
    if media_id is None and link is None:
        raise required_parameter(f"The parameter {either} is required.")
    if media_id is not None and link is not None:
        raise parameter_value_invalid(f"Only one of {either} may be set.")
    if media_id is not None:
        as_str(media_id, (*path, "id"))
    else:
        http_url(link, (*path, "link"))
    return media


def copy_json(value: Any) -> Any:
    """A deep copy of decoded JSON that never recurses, so no nesting depth can exhaust the stack."""
    if not isinstance(value, dict | list):
        return value
    root: Any = {} if isinstance(value, dict) else []
    pending: list[tuple[Any, Any]] = [(value, root)]
    while pending:
        source, target = pending.pop()
        for key, child in source.items() if isinstance(source, dict) else enumerate(source):
            duplicate = child
            if isinstance(child, dict | list):
                duplicate = {} if isinstance(child, dict) else []
                pending.append((child, duplicate))
            if isinstance(target, dict):
                target[key] = duplicate
            else:
                target.append(duplicate)
    return root
