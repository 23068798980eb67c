"""The lifecycle kit (sandbox/domain/lifecycle.py).

`Lifecycle.fire` runs plain moves from a table read off the machine: for every declared lifecycle it must agree
with `transitions` itself (`machine.events[trigger].trigger`) on every (state, trigger) pair, and leave anything
else to `transitions`. An object may carry several lifecycles, each on its own attribute.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pytest
from transitions import MachineError

from sandbox.domain.lifecycle import InvalidTransition, Lifecycle, declare, lifecycles, plain_moves
from sandbox.domain.message import MESSAGE_LIFECYCLE, MESSAGE_TRANSITIONS

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LIFECYCLES = lifecycles()


class Probe:
    """A model for any lifecycle: holds the lifecycle's attribute and records every callback it is asked for."""

    def __init__(self, attribute: str, state: str) -> None:
        self.__dict__["_attribute"] = attribute
        self.__dict__["calls"] = []
        setattr(self, attribute, state)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)

        def record(*args: Any) -> None:
            self.calls.append((name, getattr(self, self._attribute), args))

        return record

    def outcome(self) -> tuple[object, ...]:
        return (getattr(self, self._attribute), list(self.calls))


def _by_transitions(lifecycle: Lifecycle, state: str, trigger: str) -> tuple[object, ...] | None:
    model = Probe(lifecycle.attribute, state)
    event = lifecycle.machine.events.get(trigger)
    try:
        if event is None or not event.trigger(model, AT):
            return None
    except MachineError:
        return None
    return model.outcome()


def _by_fire(lifecycle: Lifecycle, state: str, trigger: str) -> tuple[object, ...] | None:
    model = Probe(lifecycle.attribute, state)
    try:
        lifecycle.fire(model, trigger, AT)
    except InvalidTransition as error:
        assert (error.trigger, error.status) == (trigger, state)
        assert model.outcome() == Probe(lifecycle.attribute, state).outcome(), "an illegal trigger changed the model"
        return None
    return model.outcome()


def _pairs() -> list[tuple[str, str, str]]:
    pairs = []
    for name, lifecycle in LIFECYCLES.items():
        triggers = sorted({str(row[0]) for row in lifecycle.table()} | {"unknown"})
        pairs += [(name, str(state), trigger) for state, trigger in itertools.product(lifecycle.states, triggers)]
    return pairs


def test_the_registry_holds_every_declared_lifecycle() -> None:
    assert LIFECYCLES["message"] is MESSAGE_LIFECYCLE
    for name, lifecycle in LIFECYCLES.items():
        assert lifecycle.name == name
        assert lifecycle.states, name


@pytest.mark.parametrize(("name", "state", "trigger"), _pairs())
def test_fire_agrees_with_transitions_on_every_pair(name: str, state: str, trigger: str) -> None:
    lifecycle = LIFECYCLES[name]
    assert _by_fire(lifecycle, state, trigger) == _by_transitions(lifecycle, state, trigger)


@pytest.mark.parametrize("name", list(LIFECYCLES))
def test_every_table_row_uses_declared_states(name: str) -> None:
    lifecycle = LIFECYCLES[name]
    states = {str(state) for state in lifecycle.states}
    for trigger, sources, dest in lifecycle.table():
        assert set(sources) <= states and dest in states, trigger


def test_every_message_move_takes_the_table() -> None:
    legal = {
        (source, str(transition["trigger"]))
        for transition in MESSAGE_TRANSITIONS
        for source in (transition["source"] if isinstance(transition["source"], list) else [transition["source"]])
    }
    assert set(plain_moves(MESSAGE_LIFECYCLE.machine)) == legal


def test_a_lifecycle_is_declared_once() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        declare("message", "status", Door, [])


class Door(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    LOCKED = "locked"


class Light(StrEnum):
    ON = "ON"
    OFF = "OFF"


@dataclass
class Model:
    status: str = "closed"
    light: str = "OFF"
    has_key: bool = False
    calls: list[str] = field(default_factory=list)

    def key_fits(self, *_: Any) -> bool:
        return self.has_key

    def note(self, *_: Any) -> None:
        self.calls.append(self.status)

    def note_light(self, at: datetime) -> None:
        self.calls.append(f"{self.light}@{at:%H:%M}")


DOOR = Lifecycle(
    "door",
    "status",
    Door,
    [
        {"trigger": "open", "source": Door.CLOSED, "dest": Door.OPEN, "after": "note"},
        {"trigger": "unlock", "source": Door.LOCKED, "dest": Door.CLOSED, "conditions": "key_fits"},
        {"trigger": "lock", "source": Door.CLOSED, "dest": Door.LOCKED, "before": "note"},
    ],
)
LIGHT = Lifecycle(
    "door.light",
    "light",
    Light,
    [
        {"trigger": "switch_on", "source": Light.OFF, "dest": Light.ON, "after": "note_light"},
        {"trigger": "switch_off", "source": Light.ON, "dest": Light.OFF, "after": "note_light"},
    ],
)


def test_guarded_moves_are_left_to_transitions() -> None:
    assert set(DOOR.moves) == {("closed", "open")}
    door = Model(status="locked")
    with pytest.raises(InvalidTransition):
        DOOR.fire(door, "unlock")
    door.has_key = True
    DOOR.fire(door, "unlock")
    DOOR.fire(door, "lock")
    assert (door.status, door.calls) == ("locked", ["closed"])
    door.status = "closed"
    DOOR.fire(door, "open")
    assert (door.status, door.calls) == ("open", ["closed", "open"])


def test_one_object_carries_independent_lifecycles_on_their_own_attributes() -> None:
    door = Model()
    LIGHT.fire(door, "switch_on", AT)
    DOOR.fire(door, "open")
    with pytest.raises(InvalidTransition) as error:
        LIGHT.fire(door, "switch_on", AT)
    assert (error.value.status, door.status, door.light) == ("ON", "open", "ON")
    LIGHT.fire(door, "switch_off", AT)
    assert door.calls == ["ON@09:00", "open", "OFF@09:00"]
    assert LIGHT.triggers("OFF") == ["switch_on"] and DOOR.is_final("open")
