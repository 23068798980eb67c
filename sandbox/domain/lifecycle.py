"""One way to build and fire the shared `transitions` machines that every lifecycle uses."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from transitions import Machine, MachineError

from sandbox.domain.errors import Conflict

if TYPE_CHECKING:
    from transitions.core import TransitionConfigDict


class InvalidTransition(Conflict):
    """`trigger` is not allowed from the object's current status."""

    def __init__(self, trigger: str, status: str) -> None:
        super().__init__(f"cannot {trigger} from {status}")
        self.trigger = trigger
        self.status = status


# (status, trigger) → (dest, names of the model's `after` callbacks), read off each machine `build_machine` made.
Moves = dict[tuple[str, str], tuple[str, tuple[str, ...]]]
_MOVES: weakref.WeakKeyDictionary[Machine, Moves] = weakref.WeakKeyDictionary()


def build_machine(states: Iterable[StrEnum], transitions: Sequence[TransitionConfigDict]) -> Machine:
    """A model-less machine: objects are passed to `fire`, so one machine serves every object of a type.

    The machine stays the one definition of the lifecycle; `fire` runs its plain moves from a table read off it.
    """
    machine = Machine(
        model=None,
        states=[str(state) for state in states],
        transitions=[
            {
                **transition,
                "source": _wire(transition["source"]),
                "dest": _wire(transition["dest"]),
            }
            for transition in transitions
        ],
        initial=None,
        model_attribute="status",
        auto_transitions=False,
        send_event=False,
    )
    _MOVES[machine] = plain_moves(machine)
    return machine


def plain_moves(machine: Machine) -> Moves:
    """The moves of `machine` that do nothing but change the status and call model methods `after`: no conditions,
    no before/prepare callbacks, no state or machine-wide callbacks. Any other move is left to `transitions`."""
    machine_wide = (
        machine.before_state_change,
        machine.after_state_change,
        machine.prepare_event,
        machine.finalize_event,
        machine.on_exception,
        machine.on_final,
    )
    if any(machine_wide):
        return {}
    moves: Moves = {}
    for trigger, event in machine.events.items():
        for source, candidates in event.transitions.items():
            # The first candidate always wins when it has no conditions; with conditions, `transitions` decides.
            move = candidates[0]
            dest = machine.states.get(move.dest or "")
            guarded = move.conditions or move.prepare or move.before
            state_callbacks = dest is None or dest.on_enter or dest.final or machine.get_state(source).on_exit
            if guarded or state_callbacks or not all(isinstance(name, str) and "." not in name for name in move.after):
                continue
            moves[(source, trigger)] = (move.dest, tuple(move.after))
    return moves


def _wire(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return str(value) if value is not None else None


def fire(machine: Machine, model: Any, trigger: str, *args: Any) -> None:
    """Run `trigger` on `model`; an illegal move raises `InvalidTransition` and leaves the model untouched.

    `args` reach the transition's callbacks (the time of the move, for instance).
    """
    moves = _MOVES.get(machine)
    move = moves.get((model.status, trigger)) if moves else None
    if move is not None:
        # What `Event.trigger` would do for this move, without its EventData and callback resolution:
        # 9 → 1 µs per status move, three per message (tests/domain/test_lifecycle.py: both agree on every pair).
        dest, after = move
        model.status = dest
        for name in after:
            getattr(model, name)(*args)
        return
    event = machine.events.get(trigger)
    if event is None:
        raise InvalidTransition(trigger, str(model.status))
    try:
        if not event.trigger(model, *args):
            raise InvalidTransition(trigger, str(model.status))
    except MachineError as error:
        raise InvalidTransition(trigger, str(model.status)) from error


def allowed_triggers(machine: Machine, status: str) -> list[str]:
    return sorted(machine.get_triggers(str(status)))
