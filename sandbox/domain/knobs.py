"""A knob of simulated behaviour, declared once next to its dataclass field: kind, bounds, choices, unit, text.

`number`, `integer`, `flag`, `choice`, `span`, `seconds_list` and `levels` return a dataclass field whose metadata
holds a `Knob`; `Knob.check` is the one validator, and `describe` renders the declaration for the control plane
and the docs. Groups of knobs and the policy that holds them live in domain/policy.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, get_args

from sandbox.domain.errors import Invalid, is_integer, is_number

KNOB = "knob"
DAY = 24 * 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Knob:
    """What one knob accepts and means; `alias` is its old flat name on the wire, when it differs from its own."""

    kind: ClassVar[str]
    description: str
    unit: str = ""
    alias: str | None = None

    def check(self, name: str, value: Any, current: Any) -> Any:
        """The value to store for `value`, or `Invalid` naming `name`, what it accepts and what came."""
        raise NotImplementedError

    def expects(self) -> str:
        raise NotImplementedError

    def bounds(self) -> dict[str, Any]:
        return {}

    def refuse(self, name: str, value: Any) -> Invalid:
        return Invalid(f"{name} must be {self.expects()}; got {_shown(value)}")

    def describe(self) -> dict[str, Any]:
        return {"type": self.kind, **self.bounds(), "unit": self.unit, "description": self.description}


@dataclass(frozen=True, slots=True, kw_only=True)
class Number(Knob):
    kind: ClassVar[str] = "number"
    low: float
    high: float
    high_exclusive: bool = False

    def check(self, name: str, value: Any, current: Any) -> float:
        if not is_number(value) or not (
            self.low <= value and (value < self.high if self.high_exclusive else value <= self.high)
        ):
            raise self.refuse(name, value)
        return float(value)

    def expects(self) -> str:
        top = f"to under {_n(self.high)}" if self.high_exclusive else f"to {_n(self.high)}"
        return f"a number from {_n(self.low)} {top}{_in(self.unit)}"

    def bounds(self) -> dict[str, Any]:
        return {"min": self.low, "max": self.high} | ({"max_exclusive": True} if self.high_exclusive else {})


@dataclass(frozen=True, slots=True, kw_only=True)
class Integer(Knob):
    kind: ClassVar[str] = "integer"
    low: int
    high: int

    def check(self, name: str, value: Any, current: Any) -> int:
        if not is_integer(value) or not self.low <= value <= self.high:
            raise self.refuse(name, value)
        return int(value)

    def expects(self) -> str:
        return f"an integer from {_n(self.low)} to {_n(self.high)}{_in(self.unit)}"

    def bounds(self) -> dict[str, Any]:
        return {"min": self.low, "max": self.high}


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag(Knob):
    kind: ClassVar[str] = "boolean"

    def check(self, name: str, value: Any, current: Any) -> bool:
        if not isinstance(value, bool):
            raise self.refuse(name, value)
        return value

    def expects(self) -> str:
        return "true or false"


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice(Knob):
    kind: ClassVar[str] = "choice"
    choices: tuple[str, ...]

    def check(self, name: str, value: Any, current: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise self.refuse(name, value)
        return value

    def expects(self) -> str:
        return f"one of {', '.join(self.choices)}"

    def bounds(self) -> dict[str, Any]:
        return {"choices": list(self.choices)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Span(Knob):
    """`[min, max]`, a range a value is drawn from uniformly."""

    kind: ClassVar[str] = "span"
    low: float
    high: float

    def check(self, name: str, value: Any, current: Any) -> list[float]:
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(is_number(item) for item in value)
            or not self.low <= value[0] <= value[1] <= self.high
        ):
            raise self.refuse(name, value)
        return [float(item) for item in value]

    def expects(self) -> str:
        return f"[min, max] with {_n(self.low)} ≤ min ≤ max ≤ {_n(self.high)}{_in(self.unit)}"

    def bounds(self) -> dict[str, Any]:
        return {"min": self.low, "max": self.high}


@dataclass(frozen=True, slots=True, kw_only=True)
class NumberList(Knob):
    kind: ClassVar[str] = "number_list"
    low: float
    high: float
    max_items: int

    def check(self, name: str, value: Any, current: Any) -> list[float]:
        if (
            not isinstance(value, list)
            or not 1 <= len(value) <= self.max_items
            or not all(is_number(item) and self.low <= item <= self.high for item in value)
        ):
            raise self.refuse(name, value)
        return [float(item) for item in value]

    def expects(self) -> str:
        return f"a list of 1 to {self.max_items} numbers, each from {_n(self.low)} to {_n(self.high)}{_in(self.unit)}"

    def bounds(self) -> dict[str, Any]:
        return {"min": self.low, "max": self.high, "min_items": 1, "max_items": self.max_items}


@dataclass(frozen=True, slots=True, kw_only=True)
class Levels(Knob):
    """An integer per named level; a patch names only the levels it changes, the others keep their value."""

    kind: ClassVar[str] = "levels"
    levels: tuple[str, ...]
    low: int
    high: int

    def check(self, name: str, value: Any, current: Any) -> dict[str, int]:
        if not isinstance(value, dict) or not all(
            level in self.levels and is_integer(item) and self.low <= item <= self.high for level, item in value.items()
        ):
            raise self.refuse(name, value)
        return {**current, **value}

    def expects(self) -> str:
        return (
            f"an object of integers from {_n(self.low)} to {_n(self.high)}{_in(self.unit)} "
            f"by level ({', '.join(self.levels)})"
        )

    def bounds(self) -> dict[str, Any]:
        return {"min": self.low, "max": self.high, "levels": list(self.levels)}


def _declared(spec: Knob, default: Any) -> Any:
    spec.check("the declared default", default, default)
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata={KNOB: spec})
    return field(default=default, metadata={KNOB: spec})


def number(
    default: float,
    *,
    low: float,
    high: float,
    below: bool = False,
    unit: str = "",
    description: str,
    alias: str | None = None,
) -> Any:
    """A number in `[low, high]` (`[low, high)` with `below`); stored as a float."""
    spec = Number(low=low, high=high, high_exclusive=below, unit=unit, description=description, alias=alias)
    return _declared(spec, float(default))


def integer(default: int, *, low: int, high: int, unit: str = "", description: str, alias: str | None = None) -> Any:
    return _declared(Integer(low=low, high=high, unit=unit, description=description, alias=alias), default)


def flag(default: bool, *, description: str, alias: str | None = None) -> Any:
    return _declared(Flag(description=description, alias=alias), default)


def choice(options: Any, default: str, *, description: str, alias: str | None = None) -> Any:
    """One of the values of `options`, a `Literal[...]` type: the choices are declared there and nowhere else."""
    return _declared(Choice(choices=get_args(options), description=description, alias=alias), default)


def span(
    default: list[float],
    *,
    high: float,
    low: float = 0.0,
    unit: str = "seconds",
    description: str,
    alias: str | None = None,
) -> Any:
    spec = Span(low=low, high=high, unit=unit, description=description, alias=alias)
    return _declared(spec, [float(item) for item in default])


def seconds_list(
    default: list[float], *, high: float, max_items: int, description: str, alias: str | None = None
) -> Any:
    spec = NumberList(low=0.0, high=high, max_items=max_items, unit="seconds", description=description, alias=alias)
    return _declared(spec, [float(item) for item in default])


def levels(
    default: dict[str, int], *, low: int, high: int, unit: str = "", description: str, alias: str | None = None
) -> Any:
    """An integer for each key of `default`: the levels are the keys of the one mapping that declares them."""
    spec = Levels(levels=tuple(default), low=low, high=high, unit=unit, description=description, alias=alias)
    return _declared(spec, dict(default))


def _n(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _in(unit: str) -> str:
    return f" ({unit})" if unit else ""


def _shown(value: Any) -> str:
    text = json.dumps(value, default=repr)
    return text if len(text) <= 80 else text[:77] + "..."
