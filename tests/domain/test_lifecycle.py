"""`lifecycle.fire` runs plain moves from a table read off the machine: it must agree with `transitions` itself
(`machine.events[trigger].trigger`) on every (status, trigger) pair, and leave anything else to `transitions`."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pytest
from transitions import MachineError

from sandbox.domain.lifecycle import InvalidTransition, build_machine, fire, plain_moves
from sandbox.domain.message import _MACHINE, MESSAGE_TRANSITIONS, Message, MessageStatus

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TRIGGERS = sorted({str(transition["trigger"]) for transition in MESSAGE_TRANSITIONS} | {"unknown"})


def _message(status: str) -> Message:
    message = Message("wamid.x", "outbound", "1", "16505551234", "text", {"body": "hi"}, AT)
    message.status = status
    return message


def _outcome(message: Message) -> tuple[object, ...]:
    return (message.status, list(message.history), [(e.status, e.at) for e in message.pending_events])


def _by_transitions(status: str, trigger: str) -> tuple[object, ...] | None:
    message = _message(status)
    event = _MACHINE.events.get(trigger)
    try:
        if event is None or not event.trigger(message, AT):
            return None
    except MachineError:
        return None
    return _outcome(message)


def _by_fire(status: str, trigger: str) -> tuple[object, ...] | None:
    message = _message(status)
    try:
        fire(_MACHINE, message, trigger, AT)
    except InvalidTransition as error:
        assert (error.trigger, error.status) == (trigger, status)
        assert _outcome(message) == _outcome(_message(status)), "an illegal trigger changed the message"
        return None
    return _outcome(message)


@pytest.mark.parametrize(("status", "trigger"), list(itertools.product([str(s) for s in MessageStatus], TRIGGERS)))
def test_fire_agrees_with_transitions_on_every_pair(status: str, trigger: str) -> None:
    assert _by_fire(status, trigger) == _by_transitions(status, trigger)


def test_every_message_move_takes_the_table() -> None:
    legal = {
        (source, str(transition["trigger"]))
        for transition in MESSAGE_TRANSITIONS
        for source in (transition["source"] if isinstance(transition["source"], list) else [transition["source"]])
    }
    assert set(plain_moves(_MACHINE)) == legal


class Door(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    LOCKED = "locked"


@dataclass
class Model:
    status: str = "closed"
    has_key: bool = False
    calls: list[str] = field(default_factory=list)

    def key_fits(self, *_: Any) -> bool:
        return self.has_key

    def note(self, *_: Any) -> None:
        self.calls.append(self.status)


def test_guarded_moves_are_left_to_transitions() -> None:
    machine = build_machine(
        Door,
        [
            {"trigger": "open", "source": Door.CLOSED, "dest": Door.OPEN, "after": "note"},
            {"trigger": "unlock", "source": Door.LOCKED, "dest": Door.CLOSED, "conditions": "key_fits"},
            {"trigger": "lock", "source": Door.CLOSED, "dest": Door.LOCKED, "before": "note"},
        ],
    )
    assert set(plain_moves(machine)) == {("closed", "open")}
    door = Model(status="locked")
    with pytest.raises(InvalidTransition):
        fire(machine, door, "unlock")
    door.has_key = True
    fire(machine, door, "unlock")
    fire(machine, door, "lock")
    assert (door.status, door.calls) == ("locked", ["closed"])
    door.status = "closed"
    fire(machine, door, "open")
    assert (door.status, door.calls) == ("open", ["closed", "open"])
