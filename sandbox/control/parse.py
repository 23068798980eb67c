"""One reader per kind of value in a control-plane body or query string; each refuses with `Invalid` (400).

A `Fields` wraps one JSON object; its readers name the field, with the path of the objects it sits in
(`latency_ms.min`), and say what it must be. JSON `null` counts as absent everywhere, as it always has.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar, get_args

from sandbox.clock import parse_rfc3339
from sandbox.domain.errors import Invalid, is_integer, is_number

T = TypeVar("T")
# Longer than any RFC 3339 time with a fraction and an offset; guards `fromisoformat` against megabytes.
_TIME_LENGTH = 64
# Ids a caller names (wamids, phone number ids, template ids) are far shorter; longer is refused unread.
ID_LENGTH = 256
_WA_ID = re.compile(r"^[0-9]{7,15}$")


def _shown(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def choices_of(kind: Any) -> tuple[Any, ...]:
    """The values of a declared set: an Enum's member values, the arguments of a `Literal`, or a frozenset's
    members (sorted)."""
    if isinstance(kind, type) and issubclass(kind, Enum):
        return tuple(member.value for member in kind)
    if isinstance(kind, frozenset):
        return tuple(sorted(kind))
    values = get_args(kind)
    if not values:
        raise TypeError(f"{kind!r} is neither an Enum nor a Literal")
    return values


class Fields:
    """A JSON object being read field by field; `at` is the dotted path of the object (`""` for the body)."""

    __slots__ = ("_at", "_data")

    def __init__(self, data: Mapping[str, Any], at: str = "") -> None:
        self._data = data
        self._at = at

    def name(self, key: str) -> str:
        return f"{self._at}.{key}" if self._at else key

    def has(self, key: str) -> bool:
        return self._data.get(key) is not None

    def __contains__(self, key: object) -> bool:
        """Whether the field is given at all, even as null."""
        return key in self._data

    def raw(self, key: str) -> Any:
        return self._data.get(key)

    def only(self, known: tuple[str, ...] | frozenset[str], *, list_known: bool = True) -> None:
        """Refuse a field the object does not have (a typo must not pass silently as a default)."""
        unknown = sorted(set(self._data) - set(known))
        if unknown:
            where = f"{self._at} " if self._at else ""
            tail = f"; known: {', '.join(sorted(known))}" if list_known else ""
            raise Invalid(f"unknown {where}field(s): {', '.join(unknown)}{tail}")

    def _missing(self, key: str, required: bool) -> None:
        if required:
            raise Invalid(f"{self.name(key)} is required")

    def require(self, key: str) -> None:
        """The field must be given, whatever it holds (its reader, if any, comes later)."""
        self._missing(key, self._data.get(key) is None)

    def wa_id(self, key: str) -> str:
        """A customer's WhatsApp id (`wa_id_of`), required."""
        return wa_id_of(self._data.get(key), self.name(key))

    def text(
        self,
        key: str,
        *,
        max_length: int,
        required: bool = False,
        min_length: int = 1,
        pattern: re.Pattern[str] | None = None,
        what: str | None = None,
    ) -> str | None:
        """A string of `min_length` to `max_length` characters (matching `pattern`, when given)."""
        value = self._data.get(key)
        if value is None:
            self._missing(key, required)
            return None
        if (
            not isinstance(value, str)
            or not min_length <= len(value) <= max_length
            or (pattern is not None and not pattern.match(value))
        ):
            if what is None:
                what = (
                    f"a string of {min_length} to {max_length} characters"
                    if min_length > 1
                    else f"a {'non-empty ' if min_length else ''}string of at most {max_length} characters"
                )
            raise Invalid(f"{self.name(key)} must be {what}")
        return value

    def number(
        self,
        key: str,
        *,
        low: float,
        high: float,
        above: bool = False,
        unit: str = "",
        required: bool = False,
        default: float | None = None,
    ) -> float | None:
        """A JSON number (never `true`) from `low` (excluded when `above`) to `high`; `unit` reads " of seconds"."""
        value = self._data.get(key)
        if value is None:
            self._missing(key, required)
            return default
        if not (is_number(value) and (low < value if above else low <= value) and value <= high):
            bounds = (
                f"greater than {_shown(low)} (at most {_shown(high)})"
                if above
                else f"between {_shown(low)} and {_shown(high)}"
            )
            raise Invalid(f"{self.name(key)} must be a number{unit} {bounds}")
        return float(value)

    def integer(
        self,
        key: str,
        *,
        low: int,
        high: int,
        required: bool = False,
        default: int | None = None,
        what: str | None = None,
    ) -> int | None:
        """A JSON integer (never `true`, never `1.0`) from `low` to `high`."""
        value = self._data.get(key)
        if value is None:
            self._missing(key, required)
            return default
        if not is_integer(value) or not low <= value <= high:
            raise Invalid(f"{self.name(key)} must be {what or f'an integer between {low} and {high}'}")
        return int(value)

    def flag(self, key: str, *, required: bool = False, default: bool | None = None) -> bool | None:
        value = self._data.get(key)
        if value is None:
            self._missing(key, required)
            return default
        if not isinstance(value, bool):
            raise Invalid(f"{self.name(key)} must be true or false")
        return value

    def choice(
        self, key: str, kind: Any, *, required: bool = False, default: Any = None, what: str | None = None
    ) -> Any:
        """One value of a declared set (`kind`: an Enum, whose member is returned, or a `Literal`)."""
        value = self._data.get(key)
        if value is None:
            self._missing(key, required)
            return default
        # `True == 1` and `1.0 == 1`: a value of the set has the set's type too.
        if not any(value == option and type(value) is type(option) for option in choices_of(kind)):
            values = choices_of(kind)
            shown = what or f"one of {', '.join(str(v) for v in values)}"
            raise Invalid(f"{self.name(key)} must be {shown}")
        if isinstance(kind, type) and issubclass(kind, Enum):
            return kind(value)
        return value

    def sole_choice(self, key: str, kind: Any) -> Any:
        """The body's one field, required: a value of `kind` (as `choice` reads it)."""
        self.only((key,))
        return self.choice(key, kind, required=True)

    def time(self, key: str, *, required: bool = False) -> datetime | None:
        """An RFC 3339 time (UTC when it has no offset)."""
        value = self._data.get(key)
        if value is None:
            self._missing(key, required)
            return None
        if not isinstance(value, str) or len(value) > _TIME_LENGTH:
            raise Invalid(f"{self.name(key)} must be an RFC 3339 time")
        try:
            return parse_rfc3339(value)
        except ValueError as error:
            raise Invalid(f"{self.name(key)} must be an RFC 3339 time") from error

    def object(self, key: str, *, required: bool = False, what: str | None = None) -> Fields | None:
        """A nested JSON object, read with its own `Fields` (its fields are named `key.field`)."""
        value = self._data.get(key)
        if value is None:
            self._missing(key, required)
            return None
        if not isinstance(value, dict):
            raise Invalid(f"{self.name(key)} must be {what or 'an object'}")
        return Fields(value, self.name(key))

    def items(
        self,
        key: str,
        read: Callable[[Any, str], T],
        *,
        max_items: int,
        min_items: int = 0,
        required: bool = False,
    ) -> tuple[T, ...] | None:
        """A JSON list of `min_items` to `max_items` items, each read by `read(item, "key[i]")`."""
        value = self._data.get(key)
        if value is None:
            self._missing(key, required)
            return None
        if not isinstance(value, list) or not min_items <= len(value) <= max_items:
            if min_items:
                raise Invalid(f"{self.name(key)} must be a list of {min_items} to {max_items} items")
            raise Invalid(f"{self.name(key)} must be a list of at most {max_items} items")
        return tuple(read(item, f"{self.name(key)}[{index}]") for index, item in enumerate(value))

    def strings(self, key: str, *, max_items: int, max_length: int) -> dict[str, str]:
        """An object whose values are all strings (`{}` when absent), at most `max_items` of them."""
        value = self._data.get(key)
        if value is None:
            return {}
        if (
            not isinstance(value, dict)
            or len(value) > max_items
            or not all(isinstance(v, str) and len(k) <= max_length and len(v) <= max_length for k, v in value.items())
        ):
            raise Invalid(
                f"{self.name(key)} must be an object of at most {max_items} strings of at most {max_length} characters"
            )
        return dict(value)


def wa_id_of(value: Any, name: str) -> str:
    """A customer's WhatsApp id from a phone number as people write it (`+1 (555) 010-0100`): its digits, 7 to 15."""
    digits = re.sub(r"[\s+()-]", "", value) if isinstance(value, str) and len(value) <= ID_LENGTH else ""
    if not _WA_ID.match(digits):
        raise Invalid(f"{name} must be a phone number of 7 to 15 digits")
    return digits


def query_integer(params: Mapping[str, str], key: str, *, low: int, high: int, default: int, what: str) -> int:
    """An integer in a query string: ASCII digits only (`²` and `-3` are refused), from `low`, capped at `high`."""
    text = params.get(key)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or int(text) < low:
        raise Invalid(f"{key} must be {what}")
    return min(int(text), high)


def _string(min_length: int, max_length: int, pattern: re.Pattern[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": min_length, "maxLength": max_length}
    if pattern is not None:
        schema["pattern"] = pattern.pattern
    return schema


class Described(Fields):
    """A body that is described, not read: each reader notes the JSON Schema of what it accepts, from the very
    arguments it would validate with, and answers as for an absent field (a required one as for a valid one).

    Running a parser over a `Described` is how the control plane's OpenAPI description gets its request bodies
    (sandbox/control/openapi.py), so they cannot drift from what the parser enforces. What a parser checks in
    its own code after reading (one field or another, an order between two numbers) is not seen here.
    """

    __slots__ = ("_known", "_nested", "_properties", "_required")

    def __init__(self, at: str = "") -> None:
        super().__init__({}, at)
        self._properties: dict[str, dict[str, Any]] = {}
        self._nested: dict[str, Described] = {}
        self._required: set[str] = set()
        self._known: tuple[str, ...] | None = None

    def schema(self) -> dict[str, Any]:
        properties = {key: {} for key in self._known or ()} | self._properties
        properties |= {key: nested.schema() for key, nested in self._nested.items()}
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if self._required:
            schema["required"] = sorted(self._required)
        schema["additionalProperties"] = self._known is None
        return schema

    def _note(self, key: str, schema: dict[str, Any], required: bool = False) -> None:
        self._properties.setdefault(key, schema)
        if required:
            self._required.add(key)

    def has(self, key: str) -> bool:
        return True

    def __contains__(self, key: object) -> bool:
        return True

    def only(self, known: tuple[str, ...] | frozenset[str], *, list_known: bool = True) -> None:
        self._known = tuple(sorted(known)) if isinstance(known, frozenset) else tuple(known)

    def require(self, key: str) -> None:
        self._required.add(key)

    def wa_id(self, key: str) -> str:
        self._note(key, _string(7, ID_LENGTH) | {"description": "a phone number of 7 to 15 digits"}, True)
        return "15550100001"

    def text(
        self,
        key: str,
        *,
        max_length: int,
        required: bool = False,
        min_length: int = 1,
        pattern: re.Pattern[str] | None = None,
        what: str | None = None,
    ) -> str | None:
        self._note(key, _string(min_length, max_length, pattern), required)
        return "x" * max(min_length, 1) if required else None

    def number(
        self,
        key: str,
        *,
        low: float,
        high: float,
        above: bool = False,
        unit: str = "",
        required: bool = False,
        default: float | None = None,
    ) -> float | None:
        schema: dict[str, Any] = {"type": "number", "exclusiveMinimum" if above else "minimum": low, "maximum": high}
        self._note(key, schema | ({"description": unit.removeprefix(" of ")} if unit else {}), required)
        return float(high) if required else default

    def integer(
        self,
        key: str,
        *,
        low: int,
        high: int,
        required: bool = False,
        default: int | None = None,
        what: str | None = None,
    ) -> int | None:
        self._note(key, {"type": "integer", "minimum": low, "maximum": high}, required)
        return low if required else default

    def flag(self, key: str, *, required: bool = False, default: bool | None = None) -> bool | None:
        self._note(key, {"type": "boolean"}, required)
        return bool(default) if required else default

    def choice(
        self, key: str, kind: Any, *, required: bool = False, default: Any = None, what: str | None = None
    ) -> Any:
        values = choices_of(kind)
        self._note(key, {"enum": list(values)}, required)
        if default is not None or not required:
            return default
        return kind(values[0]) if isinstance(kind, type) and issubclass(kind, Enum) else values[0]

    def time(self, key: str, *, required: bool = False) -> datetime | None:
        self._note(key, {"type": "string", "format": "date-time", "maxLength": _TIME_LENGTH}, required)
        return parse_rfc3339("2026-01-01T00:00:00Z") if required else None

    def object(self, key: str, *, required: bool = False, what: str | None = None) -> Fields | None:
        """Always the nested object, so that its fields are described too."""
        nested = self._nested.setdefault(key, Described(self.name(key)))
        if required:
            self._required.add(key)
        return nested

    def items(
        self,
        key: str,
        read: Callable[[Any, str], T],
        *,
        max_items: int,
        min_items: int = 0,
        required: bool = False,
    ) -> tuple[T, ...] | None:
        self._note(key, {"type": "array", "minItems": min_items, "maxItems": max_items}, required)
        return () if required else None

    def strings(self, key: str, *, max_items: int, max_length: int) -> dict[str, str]:
        self._note(
            key,
            {
                "type": "object",
                "maxProperties": max_items,
                "propertyNames": {"maxLength": max_length},
                "additionalProperties": {"type": "string", "maxLength": max_length},
            },
        )
        return {}


def describe(parser: Callable[[Fields], object]) -> dict[str, Any]:
    """The JSON Schema of the bodies `parser` accepts, read off the readers it calls."""
    body = Described()
    # A parser's own checks after its reads (`give seconds or to`) refuse the placeholder values: by then
    # every reader it calls has been noted.
    with contextlib.suppress(Invalid):
        parser(body)
    return body.schema()
