"""The lifecycle kit: every lifecycle is a declared table of Meta's wire-string states on one shared machine.

A `Lifecycle` names the model attribute it moves (`status`, `code_verification_status`, `name_status`, ...), its
states (a `StrEnum` of Meta's wire values) and its transition table; one `transitions.Machine` per lifecycle serves
every object of the type (`model=None`; objects are passed to `fire`). An object may carry several independent
lifecycles, one per attribute (a phone number has three). Declaring one with `declare` adds it to the registry that
the agreement tests, the docs, `scripts/fidelity.py` and the control plane loop over.

By convention every transition's callbacks receive the time of the move as their first argument.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from transitions import Machine, MachineError

from sandbox.domain.errors import Conflict

if TYPE_CHECKING:
    from transitions.core import TransitionConfigDict


class InvalidTransition(Conflict):
    """`trigger` is not allowed from the object's current state."""

    def __init__(self, trigger: str, status: str) -> None:
        super().__init__(f"cannot {trigger} from {status}")
        self.trigger = trigger
        self.status = status


# (state, trigger) → (dest, names of the model's `after` callbacks), read off the machine.
Moves = dict[tuple[str, str], tuple[str, tuple[str, ...]]]


@dataclass(eq=False)
class Lifecycle:
    """One lifecycle of one object type: `name` (`message`, `phone_number.name_status`, ...), the model
    `attribute` it moves, its `states` and its `transitions`; `machine` is built once from them."""

    name: str
    attribute: str
    states: type[StrEnum]
    transitions: Sequence[TransitionConfigDict]
    description: str = ""
    machine: Machine = field(init=False, repr=False)
    moves: Moves = field(init=False, repr=False)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # A pickled world names its lifecycles, never copies their shared machine (sandbox/services/persistence.py).
        return named, (self.name,)

    def __post_init__(self) -> None:
        self.machine = Machine(
            model=None,
            states=[str(state) for state in self.states],
            transitions=[
                {**transition, "source": _wire(transition["source"]), "dest": _wire(transition["dest"])}
                for transition in self.transitions
            ],
            initial=None,
            model_attribute=self.attribute,
            auto_transitions=False,
            send_event=False,
        )
        self.moves = plain_moves(self.machine)

    def fire(self, model: Any, trigger: str, *args: Any) -> None:
        """Run `trigger` on `model`; an illegal move raises `InvalidTransition` and leaves the model untouched.

        `args` reach the transition's callbacks (the time of the move first).
        """
        state = getattr(model, self.attribute)
        move = self.moves.get((state, trigger))
        if move is not None:
            # What `Event.trigger` would do for this move, without its EventData and callback resolution:
            # 9 → 1 µs per move, three per message (tests/domain/test_lifecycle.py: both agree on every pair).
            dest, after = move
            setattr(model, self.attribute, dest)
            for name in after:
                getattr(model, name)(*args)
            return
        event = self.machine.events.get(trigger)
        if event is None:
            raise InvalidTransition(trigger, str(state))
        try:
            if not event.trigger(model, *args):
                raise InvalidTransition(trigger, str(state))
        except MachineError as error:
            raise InvalidTransition(trigger, str(state)) from error

    def triggers(self, state: str) -> list[str]:
        """The triggers the table allows from `state`, sorted (what a control plane may offer)."""
        return sorted(self.machine.get_triggers(str(state)))

    def is_final(self, state: str) -> bool:
        return not self.machine.get_triggers(str(state))

    def table(self) -> list[tuple[str, list[str], str]]:
        """(trigger, sources, dest) per row, in wire strings, as the docs show it."""
        rows = []
        for transition in self.transitions:
            source = _wire(transition["source"])
            rows.append(
                (
                    str(transition["trigger"]),
                    source if isinstance(source, list) else [source],
                    str(_wire(transition["dest"])),
                )
            )
        return rows


_REGISTRY: dict[str, Lifecycle] = {}


def declare(
    name: str,
    attribute: str,
    states: type[StrEnum],
    transitions: Sequence[TransitionConfigDict],
    description: str = "",
) -> Lifecycle:
    """Build a lifecycle and add it to the registry; a domain module calls this once per lifecycle it owns."""
    if name in _REGISTRY:
        raise ValueError(f"lifecycle {name!r} is declared twice")
    lifecycle = _REGISTRY[name] = Lifecycle(name, attribute, states, transitions, description)
    return lifecycle


def named(name: str) -> Lifecycle:
    """The declared lifecycle `name` (how a pickled world finds it again)."""
    return _REGISTRY.get(name) or lifecycles()[name]


def lifecycles() -> dict[str, Lifecycle]:
    """Every declared lifecycle by name, after importing each module of `sandbox.domain` (a new lifecycle is found
    by being declared, with no list to keep)."""
    package = importlib.import_module("sandbox.domain")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"sandbox.domain.{module.name}")
    return dict(sorted(_REGISTRY.items()))


def plain_moves(machine: Machine) -> Moves:
    """The moves of `machine` that do nothing but change the state and call model methods `after`: no conditions,
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
