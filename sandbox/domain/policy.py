"""A tenant's policy: every knob of simulated behaviour, with its default visible."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from sandbox.domain.phone_number import THROUGHPUT_MPS

Progression = Literal["immediate", "scheduled", "manual"]
PROGRESSIONS = ("immediate", "scheduled", "manual")
Overflow = Literal["drop_oldest", "drop_newest"]
OVERFLOWS = ("drop_oldest", "drop_newest")


@dataclass(slots=True)
class Policy:
    """Progression of message statuses, customer habits, limits and journal sizes.

    Delays are `[min, max]` seconds drawn uniformly from the tenant's seeded generator.
    """

    progression: Progression = "scheduled"
    sent_delay: list[float] = field(default_factory=lambda: [0.05, 0.3])
    delivered_delay: list[float] = field(default_factory=lambda: [0.2, 1.5])
    read_delay: list[float] = field(default_factory=lambda: [1.0, 15.0])
    slow_delivery_seconds: float = 600.0
    read_probability: float = 1.0
    # Meta's limits (docs/limits-and-faults.md): messages per second per number by throughput level (a slot
    # taken within the catch-up of falling free keeps its one-second cycle), the pair-rate bucket per (number,
    # user), and management calls per rolling hour per app and per WABA.
    throughput_mps: dict[str, int] = field(default_factory=lambda: dict(THROUGHPUT_MPS))
    throughput_catch_up_seconds: float = 0.1
    throughput_counts_inbound: bool = True
    pair_rate_burst: int = 45
    pair_rate_refill_seconds: float = 6.0
    app_calls_per_hour: int = 10_000
    waba_calls_per_hour: int = 200
    active_waba_calls_per_hour: int = 5_000
    webhook_retry_seconds: list[float] = field(
        default_factory=lambda: [0, 60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600]
    )
    webhook_retry_horizon_seconds: float = 7 * 24 * 3600
    webhook_timeout_seconds: float = 5.0
    # A dead receiver cannot grow memory without limit: past this many undelivered deliveries per tenant the
    # oldest (or the newest) is dropped and counted (docs/webhooks.md).
    webhook_queue_limit: int = 10_000
    webhook_overflow: Overflow = "drop_oldest"
    # Chaos a receiver must survive; all off by default, every draw from the tenant's seeded generator.
    webhook_duplicate_probability: float = 0.0
    webhook_reorder_probability: float = 0.0
    webhook_reorder_hold_seconds: float = 2.0
    webhook_batch_max: int = 1
    webhook_batch_window_seconds: float = 1.0
    webhook_delivery_delay: list[float] = field(default_factory=lambda: [0.0, 0.0])
    webhook_bad_signature_probability: float = 0.0
    journal_requests: int = 10_000
    journal_messages: int = 100_000
    journal_webhooks: int = 10_000

    def snapshot(self) -> dict[str, Any]:
        return asdict(self)

    def patch(self, changes: dict[str, Any]) -> None:
        """Apply `changes` atomically; raises `ValueError` naming the first bad knob and changes nothing then."""
        known = {f.name: f for f in fields(self)}
        staged = Policy(**self.snapshot())
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown policy knob {name!r}; known: {', '.join(sorted(known))}")
            setattr(staged, name, _checked(name, value, getattr(self, name)))
        for f in fields(self):
            setattr(self, f.name, getattr(staged, f.name))


def _checked(name: str, value: Any, current: Any) -> Any:
    if name == "throughput_mps":
        return _checked_throughput(value, current)
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if name == "progression":
        if value not in PROGRESSIONS:
            raise ValueError(f"progression must be one of {', '.join(PROGRESSIONS)}")
        return value
    if name == "webhook_overflow":
        if value not in OVERFLOWS:
            raise ValueError(f"webhook_overflow must be one of {', '.join(OVERFLOWS)}")
        return value
    if isinstance(current, list):
        if not isinstance(value, list) or not all(_is_number(item) and item >= 0 for item in value) or not value:
            raise ValueError(f"{name} must be a non-empty list of non-negative numbers")
        if name.endswith("_delay") and (len(value) != 2 or value[0] > value[1]):
            raise ValueError(f"{name} must be [min, max] seconds")
        return [float(item) for item in value]
    if isinstance(current, int) and not isinstance(current, bool):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer")
        return value
    if not _is_number(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative number")
    if name.endswith("_probability") and value > 1:
        raise ValueError(f"{name} must be between 0 and 1")
    if name == "throughput_catch_up_seconds" and value >= 1:
        raise ValueError(f"{name} must be under one second")
    return float(value)


def _checked_throughput(value: Any, current: dict[str, int]) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ValueError(f"throughput_mps must be an object of messages per second by level ({', '.join(current)})")
    merged = dict(current)
    for level, mps in value.items():
        if level not in THROUGHPUT_MPS:
            raise ValueError(f"throughput_mps: unknown level {level!r}; known: {', '.join(THROUGHPUT_MPS)}")
        if not isinstance(mps, int) or isinstance(mps, bool) or mps < 1:
            raise ValueError(f"throughput_mps.{level} must be a positive integer")
        merged[level] = mps
    return merged


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
