"""What the domain and the services raise when a command cannot be carried out; the HTTP layers render them.

The control plane answers these in its `SandboxError` envelope (control/common.py maps each to its status); the
Graph surface raises `GraphError` with Meta's code instead, so nothing below knows about HTTP.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command the world refuses; `message` says why, in words a user can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(DomainError):
    """A value of the wrong kind or out of its bounds (the control plane answers 400)."""


class NotFound(DomainError):
    """The object the command names does not exist (404)."""


class Conflict(DomainError):
    """The object exists, but its state does not allow the command now (409)."""


def is_number(value: object) -> bool:
    """An int or a float, but not a bool (JSON's `true` arrives as a Python bool, which is an int)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
