"""Tenant clocks: the only place in the sandbox that reads wall time.

Each tenant owns a `TenantClock`. In `realtime` mode sandbox time runs with wall time multiplied by `rate`
(a compressed clock when `rate > 1`); in `frozen` mode it stands still until `advance` moves it. A scheduler
on the clock fires callbacks in time order, so a 30-day trial can play out in one `advance` call.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

ClockMode = Literal["realtime", "frozen"]
WallSource = Callable[[], float]
log = logging.getLogger("sandbox.clock")
# The span a tenant clock lives in. Whatever the sandbox adds to `now` (a token lifetime of ten years, a 7-day
# retry horizon, a review delay) stays far inside what `datetime` can hold, so no tenant's clock can overflow
# the ticker or the outbox workers that serve every tenant.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def wall_time() -> float:
    return time.time()


def to_rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{moment.microsecond // 1000:03d}Z" if moment.microsecond else "Z"
    )


def parse_rfc3339(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(order=True, slots=True)
class ScheduledCall:
    when: datetime
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class Bucket(list):  # type: ignore[type-arg]
    """Calls due at one instant, fired together in the order they were added: `[function, argument, ...]`.

    `TenantClock.at` fills it: a status move per message costs two list slots instead of a closure, a handle and a
    heap entry of its own. It is never cancelled (what it holds checks its own state when it fires)."""

    __slots__ = ()
    cancelled = False


class TenantClock:
    """Sandbox time for one tenant, with a scheduler that fires due callbacks in time order."""

    def __init__(
        self,
        start: datetime | None = None,
        *,
        mode: ClockMode = "realtime",
        rate: float = 1.0,
        wall: WallSource = wall_time,
    ) -> None:
        self._wall = wall
        self._anchor_wall = wall()
        self._anchor = _within(start if start is not None else datetime.fromtimestamp(self._anchor_wall, UTC))
        self.mode: ClockMode = mode
        self.rate = rate
        # (when, seq, call): tuples compare in C, where the dataclass's generated `__lt__` made ~10 Python calls per
        # push and pop with a thousand moves pending (push + pop: 4.5 → 2.9 µs).
        self._queue: list[tuple[datetime, int, ScheduledCall | Bucket]] = []
        self._seq = itertools.count()
        # The bucket still open at each instant (`at`): the newest entry of the queue at that instant, so that
        # adding to it keeps the order in which calls were scheduled.
        self._open: dict[datetime, Bucket] = {}
        self._firing_at: datetime | None = None
        # Told of a callback that raised (the tenant records it as an incident); the clock goes on either way.
        self.on_error: Callable[[Exception, datetime], None] | None = None
        self.saved_at = self._anchor

    def __getstate__(self) -> dict[str, object]:
        # Sandbox time as it stands and the wall time it stood there: a restart either catches up from that
        # wall time (`resumed` not called) or resumes at that instant (`resume`). `on_error` is its owner's.
        return {
            "saved_at": self.now(),
            "saved_wall": self._wall(),
            "wall": self._wall,
            "mode": self.mode,
            "rate": self.rate,
            "queue": self._queue,
            "next_seq": max((seq for _, seq, _ in self._queue), default=-1) + 1,
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        self._wall = state["wall"]  # type: ignore[assignment]
        self._anchor = state["saved_at"]  # type: ignore[assignment]
        self._anchor_wall = state["saved_wall"]  # type: ignore[assignment]
        self.saved_at: datetime = self._anchor
        self.mode = state["mode"]  # type: ignore[assignment]
        self.rate = state["rate"]  # type: ignore[assignment]
        self._queue = state["queue"]  # type: ignore[assignment]
        self._seq = itertools.count(state["next_seq"])  # type: ignore[call-overload]
        self._open = {}
        self._firing_at = None
        # Its owner sets it again (a bound method is not part of a world: sandbox/store/worlds.py).
        self.on_error = None

    def resume(self) -> None:
        """After a restore: sandbox time goes on from the instant it was saved, however long ago that was."""
        self._rebase(self.saved_at)

    def now(self) -> datetime:
        if self._firing_at is not None:
            return self._firing_at
        if self.mode == "frozen":
            return self._anchor
        elapsed = (self._wall() - self._anchor_wall) * self.rate
        if elapsed >= (LATEST - self._anchor).total_seconds():
            # A compressed clock left running for days stops at the end of its span instead of overflowing.
            return LATEST
        return self._anchor + timedelta(seconds=elapsed)

    def timestamp(self) -> int:
        return int(self.now().timestamp())

    def _rebase(self, moment: datetime) -> None:
        self._anchor = _within(moment)
        self._anchor_wall = self._wall()

    def configure(self, *, mode: ClockMode | None = None, rate: float | None = None) -> None:
        self._rebase(self.now())
        if mode is not None:
            self.mode = mode
        if rate is not None:
            self.rate = rate

    def hold(self) -> bool:
        """Stand still at `now()` until `release` (one reading for a whole call); False if already standing."""
        if self._firing_at is not None:
            return False
        self._firing_at = self.now()
        return True

    def release(self) -> None:
        self._firing_at = None

    def call_at(self, when: datetime, callback: Callable[[], None]) -> ScheduledCall:
        call = ScheduledCall(when, next(self._seq), callback)
        heapq.heappush(self._queue, (when, call.seq, call))
        if self._open:
            self._open.pop(when, None)  # later calls at this instant fire after this one
        return call

    def call_later(self, seconds: float, callback: Callable[[], None]) -> ScheduledCall:
        return self.call_at(self.now() + timedelta(seconds=seconds), callback)

    def at(self, when: datetime, function: Callable[[Any], object], argument: Any) -> None:
        """`function(argument)` at `when`, after everything scheduled before it at that instant; no handle (it
        cannot be cancelled). Calls due at one instant share one bucket."""
        bucket = self._open.get(when)
        if bucket is None:
            bucket = self._open[when] = Bucket()
            heapq.heappush(self._queue, (when, next(self._seq), bucket))
        bucket.append(function)
        bucket.append(argument)

    def later(self, seconds: float, function: Callable[[Any], object], argument: Any) -> None:
        self.at(self.now() + timedelta(seconds=seconds), function, argument)

    @property
    def pending(self) -> int:
        return sum(
            len(call) // 2 if type(call) is Bucket else (not call.cancelled)  # type: ignore[misc]
            for _, _, call in self._queue
        )

    def scheduled(self) -> list[tuple[datetime, Callable[..., object]]]:
        """(when, callable) of every pending call, in the order they will fire."""
        found: list[tuple[datetime, Callable[..., object]]] = []
        for when, _, call in sorted(self._queue, key=lambda entry: (entry[0], entry[1])):
            if type(call) is Bucket:
                found.extend((when, function) for function in call[::2])
            elif not call.cancelled:  # type: ignore[union-attr]
                found.append((when, call.callback))  # type: ignore[union-attr]
        return found

    def next_due(self) -> datetime | None:
        while self._queue and self._queue[0][2].cancelled:
            heapq.heappop(self._queue)
        return self._queue[0][0] if self._queue else None

    def run_due(self, until: datetime | None = None) -> int:
        """Fire every callback due at or before `until` (default: now), each seeing `now()` as its own time."""
        limit = self.now() if until is None else until
        fired = 0
        queue = self._queue
        held = self._firing_at  # a held clock (`hold`) stands still again once the due calls have run
        while queue and queue[0][0] <= limit:
            when, _, call = heapq.heappop(queue)
            if type(call) is Bucket:
                if self._open.get(when) is call:
                    del self._open[when]  # what is scheduled at `when` from now on fires after this bucket
                self._firing_at = when
                try:
                    for index in range(0, len(call), 2):
                        try:
                            call[index](call[index + 1])
                        except Exception as error:
                            self._failed(error)
                        fired += 1
                finally:
                    self._firing_at = held
                continue
            if call.cancelled:
                continue
            self._firing_at = when
            try:
                call.callback()
            except Exception as error:
                self._failed(error)
            finally:
                self._firing_at = held
            fired += 1
        return fired

    def _failed(self, error: Exception) -> None:
        # One broken callback must not stop the others, nor the realtime ticker of every tenant.
        log.exception("a scheduled sandbox callback failed")
        if self.on_error is not None:
            self.on_error(error, self.now())

    def advance(self, seconds: float | None = None, *, to: datetime | None = None) -> int:
        """Move sandbox time forward, firing everything due on the way in time order; returns how many fired."""
        current = self.now()
        target = to if to is not None else current + timedelta(seconds=seconds or 0)
        if target > LATEST:
            raise ValueError(f"the clock cannot go past {to_rfc3339(LATEST)}")
        if target < current:
            if self.mode == "frozen":
                raise ValueError("the clock cannot go backwards")
            # A running clock passed `target` after the caller read it: the move is then a no-op, not an error.
            target = current
        fired = self.run_due(until=target)
        self._rebase(target)
        return fired + self.run_due(until=target)

    def snapshot(self) -> dict[str, object]:
        return {"now": to_rfc3339(self.now()), "mode": self.mode, "rate": self.rate, "pending_events": self.pending}


def _within(moment: datetime) -> datetime:
    if not EARLIEST <= moment <= LATEST:
        raise ValueError(f"a tenant clock runs from {to_rfc3339(EARLIEST)} to {to_rfc3339(LATEST)}")
    return moment


def monotonic() -> float:
    """Wall-clock seconds for measuring latencies (webhook attempts, request timing), never for sandbox time."""
    return time.perf_counter()


async def ticker(fire_due: Callable[[], object], interval: float = 0.005) -> None:
    """Fire due callbacks of realtime clocks as wall time passes; with `pause`, the only sleeps in the sandbox."""
    while True:
        try:
            fire_due()
        except Exception:
            # `fire_due` contains each tenant's failures; this is the last guard of the loop every tenant shares.
            log.exception("the sandbox ticker caught a failure; it goes on")
        await asyncio.sleep(interval)


async def pause(seconds: float) -> None:
    """Wall-clock latency added to one request (fault injection): suspends only the awaiting request, so other
    requests and tenants go on; the other sleep of the sandbox besides `ticker`."""
    if seconds > 0:
        await asyncio.sleep(seconds)
