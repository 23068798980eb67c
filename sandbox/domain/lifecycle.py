"""One way to build and fire the shared `transitions` machines that every lifecycle uses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from transitions import Machine, MachineError

if TYPE_CHECKING:
    from transitions.core import TransitionConfigDict


class InvalidTransition(Exception):
    """`trigger` is not allowed from the object's current status."""

    def __init__(self, trigger: str, status: str) -> None:
        super().__init__(f"cannot {trigger} from {status}")
        self.trigger = trigger
        self.status = status


def build_machine(states: Iterable[StrEnum], transitions: Sequence[TransitionConfigDict]) -> Machine:
    """A model-less machine: objects are passed to `fire`, so one machine serves every object of a type."""
    return Machine(
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


def _wire(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return str(value) if value is not None else None


def fire(machine: Machine, model: Any, trigger: str, *args: Any) -> None:
    """Run `trigger` on `model`; an illegal move raises `InvalidTransition` and leaves the model untouched.

    `args` reach the transition's callbacks (the time of the move, for instance).
    """
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
