"""Meta's rate limits as plain models on tenant time (meta-messaging.md §5).

- Throughput per business number (META-TP): N slots a second (`ThroughputSlots`) → 130429.
- Pair rate per (business number, WhatsApp user) (META-ABOUT): a token bucket of 45 that refills one token every
  6 seconds, so a burst of 45 "borrows" from the future and then 1 message / 6 s → 131056.
- Management calls per app and per WABA in a rolling hour (META-ABOUT "rate limits") → 4 and 80007.

Every model takes `now` as an argument and keeps only what it needs to decide, so memory stays bounded by the
limits themselves.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)
THROUGHPUT_LEVELS = ("STANDARD", "HIGH", "COEXISTENCE")
# Pair buckets that have refilled completely carry no information; they are pruned once the table is this big.
_PAIR_PRUNE_AT = 50_000


class SlidingWindow:
    """Events counted over the last `window`: an event at `t` stops counting at `t + window` exactly."""

    __slots__ = ("_events", "window")

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self._events: deque[datetime] = deque()

    def _expire(self, now: datetime) -> None:
        horizon = now - self.window
        while self._events and self._events[0] <= horizon:
            self._events.popleft()

    def count(self, now: datetime) -> int:
        self._expire(now)
        return len(self._events)

    def allows(self, now: datetime, limit: int) -> bool:
        return self.count(now) < limit

    def record(self, now: datetime) -> None:
        self._expire(now)
        self._events.append(now)

    def free_at(self, now: datetime, limit: int) -> datetime:
        """When the next event would be allowed (now, when it already is)."""
        self._expire(now)
        if len(self._events) < limit:
            return now
        return self._events[len(self._events) - limit] + self.window


class ThroughputSlots:
    """A number's N messages per second as N slots: a message takes a free slot and holds it for one second.

    A slot taken within `catch_up` of falling free is held for one second from when it fell free, not from when
    it was taken: under constant demand a number then sends exactly N per second, instead of losing the gaps
    between a slot falling free and the next request to every slot's cycle. So no stretch shorter than
    `1 s - catch_up` ever holds more than N messages; with `catch_up` 0 no sliding second does.
    """

    __slots__ = ("_freed", "_held")

    def __init__(self) -> None:
        self._held: list[datetime] = []  # heap of the times held slots fall free
        self._freed: deque[datetime] = deque()  # times slots fell free, oldest first, within the catch-up

    def _release(self, now: datetime) -> None:
        held, freed = self._held, self._freed
        while held and held[0] <= now:
            freed.append(heapq.heappop(held))

    def count(self, now: datetime) -> int:
        """Slots held at `now`."""
        self._release(now)
        return len(self._held)

    def take(self, now: datetime, limit: int, catch_up: timedelta) -> bool:
        """Take a slot if fewer than `limit` are held; False (nothing changes) when none is free."""
        self._release(now)
        if len(self._held) >= limit:
            return False
        freed = self._freed
        horizon = now - catch_up
        while freed and freed[0] < horizon:
            freed.popleft()
        heapq.heappush(self._held, (freed.popleft() if freed else now) + SECOND)
        return True

    def free_at(self, now: datetime, limit: int) -> datetime:
        """When the next message would be admitted (now, when it already would)."""
        self._release(now)
        over = len(self._held) - limit
        return now if over < 0 else heapq.nsmallest(over + 1, self._held)[-1]


@dataclass(slots=True)
class TokenBucket:
    """`capacity` tokens, refilled one every `refill_seconds`; a message takes one token."""

    capacity: int
    refill_seconds: float
    tokens: float
    updated_at: datetime

    @classmethod
    def full(cls, capacity: int, refill_seconds: float, now: datetime) -> TokenBucket:
        return cls(capacity, refill_seconds, float(capacity), now)

    def _refill(self, now: datetime) -> None:
        if now > self.updated_at:
            gained = (now - self.updated_at).total_seconds() / self.refill_seconds if self.refill_seconds else math.inf
            self.tokens = min(float(self.capacity), self.tokens + gained)
            self.updated_at = now

    def allows(self, now: datetime) -> bool:
        self._refill(now)
        # A hair of tolerance: refills computed from microsecond datetimes must not lose a token to rounding.
        return self.tokens >= 1.0 - 1e-9

    def take(self, now: datetime) -> None:
        self._refill(now)
        self.tokens = max(0.0, self.tokens - 1.0)

    def is_full(self, now: datetime) -> bool:
        self._refill(now)
        return self.tokens >= self.capacity

    def free_at(self, now: datetime) -> datetime:
        self._refill(now)
        missing = max(0.0, 1.0 - self.tokens)
        return now + timedelta(seconds=missing * self.refill_seconds)


@dataclass(frozen=True, slots=True)
class Usage:
    """One hourly counter's state, as the usage headers report it."""

    calls: int
    limit: int
    regain_at: datetime | None

    @property
    def percent(self) -> int:
        return min(100, math.floor(100 * self.calls / self.limit)) if self.limit else 100

    def minutes_to_regain(self, now: datetime) -> int:
        if self.regain_at is None or self.regain_at <= now:
            return 0
        return math.ceil((self.regain_at - now).total_seconds() / 60)


@dataclass(slots=True)
class RateLimits:
    """Every counter of one tenant: throughput per number, pair buckets, hourly management calls, upgrades."""

    throughput: dict[str, ThroughputSlots] = field(default_factory=dict)
    pairs: dict[tuple[str, str], TokenBucket] = field(default_factory=dict)
    app_calls: dict[str, SlidingWindow] = field(default_factory=dict)
    waba_calls: dict[str, SlidingWindow] = field(default_factory=dict)
    # phone_number_id → end of the throughput upgrade during which Meta answers 131057 (META-TP).
    maintenance_until: dict[str, datetime] = field(default_factory=dict)

    def number_slots(self, phone_number_id: str) -> ThroughputSlots:
        slots = self.throughput.get(phone_number_id)
        if slots is None:
            slots = self.throughput[phone_number_id] = ThroughputSlots()
        return slots

    def pair_bucket(self, phone_number_id: str, wa_id: str, capacity: int, refill: float, now: datetime) -> TokenBucket:
        key = (phone_number_id, wa_id)
        bucket = self.pairs.get(key)
        if bucket is None:
            if len(self.pairs) >= _PAIR_PRUNE_AT:
                self.pairs = {k: b for k, b in self.pairs.items() if not b.is_full(now)}
            bucket = self.pairs[key] = TokenBucket.full(capacity, refill, now)
        else:
            bucket.capacity, bucket.refill_seconds = capacity, refill
        return bucket

    def hourly(self, table: dict[str, SlidingWindow], key: str) -> SlidingWindow:
        window = table.get(key)
        if window is None:
            window = table[key] = SlidingWindow(HOUR)
        return window

    def in_maintenance(self, phone_number_id: str, now: datetime) -> bool:
        until = self.maintenance_until.get(phone_number_id)
        if until is None:
            return False
        if now >= until:
            del self.maintenance_until[phone_number_id]
            return False
        return True


def usage(window: SlidingWindow, limit: int, now: datetime) -> Usage:
    calls = window.count(now)
    return Usage(calls, limit, window.free_at(now, limit) if calls >= limit else None)
