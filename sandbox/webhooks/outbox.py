"""The outbox: signed deliveries in per-key FIFO lanes, attempted by async workers, retried on the tenant clock.

A lane holds the deliveries of one ordering key (a message's statuses, a customer's inbound messages), so a
message's `delivered` never overtakes its `sent`; while a lane's head waits for a retry, the lane waits too.
A lane holds at most one token at a time (ready, being attempted, or waiting on a clock timer), so two workers
never attempt the same lane at once.

Each tenant's undelivered deliveries are bounded by `policy.webhooks.queue_limit`; past it the oldest (or the
newest, `policy.webhooks.overflow`) is dropped with reason `queue_full` and counted, so a dead receiver costs a
fixed amount of memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sandbox.clock import ScheduledCall, TenantClock, monotonic, to_rfc3339
from sandbox.domain.policy import Policy
from sandbox.webhooks.transport import WebhookTransport

if TYPE_CHECKING:
    from sandbox.console import Console

log = logging.getLogger("sandbox.webhooks")

DeliveryState = Literal["pending", "retrying", "delivered", "dropped", "no_callback", "unsubscribed"]
DELIVERY_STATES = ("pending", "retrying", "delivered", "dropped", "no_callback", "unsubscribed")
LaneToken = Literal["none", "ready", "busy", "waiting", "gone"]
Payload = tuple[bytes, dict[str, str]]


class Logged(Protocol):
    """A delivery log entry kept as the facts that make its delivery (webhooks/dispatch.py `UnroutedStatus`)."""

    def delivery(self) -> Delivery: ...


class DeliveryOwner(Protocol):
    """What the outbox needs from a tenant: its clock and policy, for timestamps, limits and the retry schedule."""

    id: str
    clock: TenantClock
    policy: Policy


@dataclass(slots=True)
class Attempt:
    at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None = None

    def snapshot(self) -> dict[str, Any]:
        return {
            "at": to_rfc3339(self.at),
            "status_code": self.status_code,
            "latency_ms": round(self.latency_ms, 2),
            "error": self.error,
        }


@dataclass(slots=True, eq=False)
class Delivery:
    id: str
    owner: DeliveryOwner
    url: str | None
    field: str
    summary: str
    # (body, signed headers), or what makes them: a delivery with nowhere to go is rendered only when read.
    payload: Payload | Callable[[], Payload]
    ordering_key: str
    created_at: datetime
    state: DeliveryState = "pending"
    attempts: list[Attempt] = field(default_factory=list)
    next_attempt_at: datetime | None = None
    not_before: datetime | None = None
    waba_id: str | None = None
    phone_number_id: str | None = None
    wamids: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    chaos: tuple[str, ...] = ()
    drop_reason: str | None = None
    redelivery_of: str | None = None
    in_flight: bool = False

    @property
    def finished(self) -> bool:
        return self.state not in ("pending", "retrying")

    @property
    def body(self) -> bytes:
        return self._rendered()[0]

    @property
    def headers(self) -> dict[str, str]:
        return self._rendered()[1]

    def _rendered(self) -> Payload:
        if callable(self.payload):
            self.payload = self.payload()
        return self.payload

    def snapshot(self, *, with_payload: bool = True) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "field": self.field,
            "summary": self.summary,
            "url": self.url,
            "state": self.state,
            "created_at": to_rfc3339(self.created_at),
            "next_attempt_at": to_rfc3339(self.next_attempt_at) if self.next_attempt_at else None,
            "waba_id": self.waba_id,
            "phone_number_id": self.phone_number_id,
            "wamids": list(self.wamids),
            "recipients": list(self.recipients),
            "chaos": list(self.chaos),
            "drop_reason": self.drop_reason,
            "redelivery_of": self.redelivery_of,
            "signature": self.headers.get("X-Hub-Signature-256"),
            "headers": self.headers,
            "attempts": [attempt.snapshot() for attempt in self.attempts],
        }
        if with_payload:
            doc["body"] = self.body.decode("ascii")
        return doc


@dataclass(slots=True, eq=False)
class Lane:
    key: tuple[str, str]
    queue: deque[Delivery] = field(default_factory=deque)
    token: LaneToken = "none"
    timer: ScheduledCall | None = None


@dataclass(slots=True, eq=False)
class TenantQueue:
    """One tenant's share of the outbox: its undelivered deliveries (oldest first), its log and its counters."""

    pending: OrderedDict[str, Delivery] = field(default_factory=OrderedDict)
    # Deliveries, and changes nobody receives kept as facts (`Logged`) until the log is read (`Outbox.log`).
    log: OrderedDict[str, Delivery | Logged] = field(default_factory=OrderedDict)
    counts: Counter[str] = field(default_factory=Counter)
    # Chaos batching: changes waiting to share one POST, by callback URL (see webhooks/dispatch.py).
    batches: dict[str, list[Any]] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        return {
            "queued": len(self.pending),
            "enqueued": self.counts["enqueued"],
            "delivered": self.counts["delivered"],
            "attempts": self.counts["attempts"],
            "failed_attempts": self.counts["failed_attempts"],
            "dropped_after_retries": self.counts["dropped_after_retries"],
            "dropped_queue_full": self.counts["dropped_queue_full"],
            "not_routed": self.counts["not_routed"],
        }


class Outbox:
    """Every tenant's deliveries, their lanes and their logs; `run` is the async side that sends them."""

    def __init__(self) -> None:
        self._lanes: dict[tuple[str, str], Lane] = {}
        self._ready: deque[Lane] = deque()
        # Idle workers, each parked on its own future: a ready lane wakes exactly one of them. (One shared Event
        # woke all 64 per lane, ~20 loop wake-ups per delivery and a third of the webhook path's CPU at load.)
        self._idle_workers: deque[asyncio.Future[None]] = deque()
        self._tenants: dict[str, TenantQueue] = {}
        self._ids = itertools.count(1)
        self._in_flight = 0
        self._running = False
        self._settle_waiters: list[asyncio.Future[None]] = []
        self.delivered = 0
        self._workers: list[asyncio.Task[None]] = []
        # Where each attempt is reported as it ends (sandbox/console.py); None: nowhere.
        self.console: Console | None = None
        # Tenants whose deliveries changed since the data directory's last checkpoint (sandbox/services/persistence.py).
        self.touched: set[str] = set()

    # -- the synchronous side, called by services inside the event loop thread ---------------------------------

    def tenant(self, tenant_id: str) -> TenantQueue:
        queue = self._tenants.get(tenant_id)
        if queue is None:
            queue = self._tenants[tenant_id] = TenantQueue()
        return queue

    def enqueue(
        self,
        owner: DeliveryOwner,
        url: str | None,
        field: str,
        summary: str,
        payload: Payload | Callable[[], Payload],
        ordering_key: str,
        *,
        unrouted: DeliveryState = "no_callback",
        not_before: datetime | None = None,
        waba_id: str | None = None,
        phone_number_id: str | None = None,
        wamids: tuple[str, ...] = (),
        recipients: tuple[str, ...] = (),
        chaos: tuple[str, ...] = (),
        redelivery_of: str | None = None,
    ) -> Delivery:
        """Record a delivery and queue it when it has a URL; without one it is only logged (`unrouted` state)."""
        delivery = Delivery(  # positional: one per webhook, and a keyword call of 16 fields costs more
            f"whd_{next(self._ids)}",
            owner,
            url,
            field,
            summary,
            payload,
            ordering_key,
            owner.clock.now(),
            "pending" if url else unrouted,
            [],
            None,
            not_before,
            waba_id,
            phone_number_id,
            wamids,
            recipients,
            chaos,
            None,
            redelivery_of,
        )
        queue = self.tenant(owner.id)
        self._remember(queue, delivery)
        if not url:
            queue.counts["not_routed"] += 1
            return delivery
        queue.counts["enqueued"] += 1
        if len(queue.pending) >= owner.policy.webhooks.queue_limit:
            if owner.policy.webhooks.overflow == "drop_newest":
                self._finish(queue, delivery, "dropped", "queue_full")
                queue.counts["dropped_queue_full"] += 1
                return delivery
            # More than one victim only after the limit was lowered; deliveries in flight are never taken.
            while len(queue.pending) >= owner.policy.webhooks.queue_limit:
                victim = next((d for d in queue.pending.values() if not d.in_flight), None)
                if victim is None:
                    break
                self._drop_queued(queue, victim)
        queue.pending[delivery.id] = delivery
        self._append(delivery)
        return delivery

    def redeliver(self, delivery: Delivery, url: str | None, headers: dict[str, str] | None = None) -> Delivery:
        """Send a logged delivery again, in a lane of its own (it is a repeat, so it orders after nothing)."""
        return self.enqueue(
            delivery.owner,
            url,
            delivery.field,
            delivery.summary,
            (delivery.body, dict(headers if headers is not None else delivery.headers)),
            f"redeliver:{delivery.id}",
            waba_id=delivery.waba_id,
            phone_number_id=delivery.phone_number_id,
            wamids=delivery.wamids,
            recipients=delivery.recipients,
            redelivery_of=delivery.id,
        )

    def _append(self, delivery: Delivery) -> None:
        lane_key = (delivery.owner.id, delivery.ordering_key)
        lane = self._lanes.get(lane_key)
        if lane is None:
            lane = self._lanes[lane_key] = Lane(lane_key)
        lane.queue.append(delivery)
        if lane.token == "none":
            self._mark_ready(lane)

    def _mark_ready(self, lane: Lane) -> None:
        lane.token = "ready"
        lane.timer = None
        self._ready.append(lane)
        while self._idle_workers:
            waiter = self._idle_workers.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break

    def wake(self, lane: Lane) -> None:
        if lane.token == "waiting":
            self._mark_ready(lane)

    def _drop_queued(self, queue: TenantQueue, victim: Delivery) -> None:
        """Take an undelivered delivery out of its lane (it is never the one being attempted)."""
        lane = self._lanes.get((victim.owner.id, victim.ordering_key))
        if lane is not None:
            if lane.queue and lane.queue[0] is victim:
                lane.queue.popleft()
                if lane.token == "waiting":
                    if lane.timer is not None:
                        lane.timer.cancel()
                    self._after_head(lane)
            else:
                with contextlib.suppress(ValueError):
                    lane.queue.remove(victim)
        self._finish(queue, victim, "dropped", "queue_full")
        queue.counts["dropped_queue_full"] += 1

    def _finish(self, queue: TenantQueue, delivery: Delivery, state: DeliveryState, reason: str | None = None) -> None:
        delivery.state = state
        delivery.drop_reason = reason
        delivery.next_attempt_at = None
        queue.pending.pop(delivery.id, None)

    @staticmethod
    def _remember(queue: TenantQueue, delivery: Delivery) -> None:
        _keep(queue, delivery.id, delivery, delivery.owner.policy.journal.webhooks)

    def number(self) -> int:
        """The number of the next delivery (its id is `whd_N`)."""
        return next(self._ids)

    def log_unrouted(self, owner: DeliveryOwner, number: int, entry: Logged) -> None:
        """Log a change nobody receives as the facts that make delivery `whd_{number}` (`number` from `number()`):
        it is counted as not routed, and rendered, signed and made a `Delivery` only if the log is read."""
        queue = self.tenant(owner.id)
        _keep(queue, f"whd_{number}", entry, owner.policy.journal.webhooks)
        queue.counts["not_routed"] += 1

    @staticmethod
    def _read(queue: TenantQueue) -> list[Delivery]:
        """The log as deliveries, oldest first; an entry kept as facts becomes its delivery now, for good."""
        log = queue.log
        entries = list(log.values())
        for index, entry in enumerate(entries):
            if type(entry) is not Delivery:
                delivery = entries[index] = entry.delivery()
                log[delivery.id] = delivery
        return entries  # type: ignore[return-value]

    def log(self, tenant_id: str) -> list[Delivery]:
        queue = self._tenants.get(tenant_id)
        return self._read(queue) if queue else []

    def newest(self, tenant_id: str) -> list[Delivery]:
        return list(reversed(self.log(tenant_id)))

    def get(self, tenant_id: str, delivery_id: str) -> Delivery | None:
        queue = self._tenants.get(tenant_id)
        entry = queue.log.get(delivery_id) if queue else None
        if entry is None or type(entry) is Delivery:
            return entry
        delivery = queue.log[delivery_id] = entry.delivery()  # type: ignore[union-attr]
        return delivery

    def share_of(self, tenant_id: str) -> tuple[TenantQueue | None, list[Lane]]:
        """The tenant's part of the outbox, to be saved with its world. A lane left empty (its deliveries done or
        dropped, a worker yet to retire it) holds nothing to deliver and is not part of it."""
        lanes = self._lanes.items()
        return self._tenants.get(tenant_id), [
            lane for key, lane in lanes if key[0] == tenant_id and (lane.queue or lane.timer is not None)
        ]

    def adopt(self, tenant_id: str, queue: TenantQueue | None, lanes: list[Lane]) -> None:
        """Take back a saved share (after `forget_tenant`): a lane that was ready or in flight when it was saved is
        ready again (delivered at least once); a waiting lane is woken by its timer, restored with the clock."""
        if queue is not None:
            self._tenants[tenant_id] = queue
        for lane in lanes:
            self._lanes[lane.key] = lane
            for delivery in lane.queue:
                delivery.in_flight = False
            if lane.token in ("ready", "busy"):
                self._mark_ready(lane)

    @property
    def next_id(self) -> int:
        """The number of the next delivery id (`whd_N`), kept across restarts so that no id repeats."""
        following = next(self._ids)
        self._ids = itertools.count(following)
        return following

    def continue_ids(self, following: int) -> None:
        self._ids = itertools.count(max(following, self.next_id))

    def forget_tenant(self, tenant_id: str) -> None:
        self._tenants.pop(tenant_id, None)
        self.touched.discard(tenant_id)
        for lane_key in [key for key in self._lanes if key[0] == tenant_id]:
            lane = self._lanes.pop(lane_key)
            if lane.timer is not None:
                lane.timer.cancel()
            lane.token = "gone"
            lane.queue.clear()

    @property
    def backlog(self) -> int:
        return sum(len(queue.pending) for queue in self._tenants.values())

    def health(self) -> dict[str, Any]:
        """The workers and queues as `/_sandbox/health` reports them: `running` only while every worker is."""
        alive = sum(1 for worker in self._workers if not worker.done())
        return {
            "running": self._running and bool(self._workers) and alive == len(self._workers),
            "workers": {"running": alive, "configured": len(self._workers)},
            "queues": {
                "pending": self.backlog,
                "ready_lanes": len(self._ready),
                "lanes": len(self._lanes),
                "in_flight": self._in_flight,
                "idle_workers": len(self._idle_workers),
            },
        }

    def idle(self) -> bool:
        return not self._ready and self._in_flight == 0

    def _busy(self, tenant_id: str) -> bool:
        return any(key[0] == tenant_id and lane.token in ("ready", "busy") for key, lane in self._lanes.items())

    async def settle(self, tenant_id: str, timeout: float) -> None:
        """Wait until none of the tenant's deliveries is ready or in flight (each lane delivered, retrying at a
        later sandbox time, or empty), at most `timeout` wall seconds; at once when no workers run."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._running and self._busy(tenant_id):
            waiter = loop.create_future()
            self._settle_waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, max(deadline - loop.time(), 0))
            except TimeoutError:
                return

    def _notify_settled(self) -> None:
        if not self._settle_waiters:  # the common case, once per attempt: no list to swap
            return
        waiters, self._settle_waiters = self._settle_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # -- the asynchronous side ----------------------------------------------------------------------------------

    async def run(self, transport: WebhookTransport, concurrency: int) -> None:
        workers = self._workers = [asyncio.create_task(self._worker(transport)) for _ in range(concurrency)]
        self._running = True
        try:
            await asyncio.gather(*workers)
        finally:
            self._running = False
            for worker in workers:
                worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*workers, return_exceptions=True)

    async def _worker(self, transport: WebhookTransport) -> None:
        while True:
            if not self._ready:
                waiter = asyncio.get_running_loop().create_future()
                self._idle_workers.append(waiter)
                await waiter
                continue
            lane = self._ready.popleft()
            try:
                await self._serve(transport, lane)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                try:
                    self._contain(lane, error)
                except Exception:
                    log.exception("a failed webhook lane could not be cleared; the worker goes on")

    def _contain(self, lane: Lane, error: Exception) -> None:
        """A failure while serving one lane stays with its tenant: the head delivery is dropped, the incident is
        in the tenant's journal, and the worker goes on serving every other tenant."""
        log.exception("a webhook delivery failed outside its attempt")
        head = lane.queue[0] if lane.queue else None
        if head is None or lane.token == "gone":
            return
        head.in_flight = False
        with contextlib.suppress(Exception):
            head.owner.incident("delivery_failed", error, delivery_id=head.id)
        self._finish(self.tenant(head.owner.id), head, "dropped", "sandbox_error")
        self._advance_lane(lane)

    async def _serve(self, transport: WebhookTransport, lane: Lane) -> None:
        if lane.token != "ready":
            return
        if not lane.queue:
            self._retire(lane)
            return
        head = lane.queue[0]
        clock = head.owner.clock
        if head.not_before is not None and head.not_before > clock.now():
            lane.token = "waiting"
            head.next_attempt_at = head.not_before
            lane.timer = clock.call_at(head.not_before, partial(wake, self, lane))
            self._notify_settled()
            return
        lane.token = "busy"
        head.in_flight = True
        self._in_flight += 1
        try:
            await self._attempt(transport, lane, head)
        finally:
            head.in_flight = False
            self._in_flight -= 1
            self._notify_settled()

    async def _attempt(self, transport: WebhookTransport, lane: Lane, delivery: Delivery) -> None:
        owner = delivery.owner
        started = monotonic()
        status: int | None = None
        error: str | None = None
        try:
            answer = await transport.post(
                delivery.url or "", delivery.body, delivery.headers, owner.policy.webhooks.timeout_seconds
            )
            status = answer.status
            if not 200 <= status < 300:
                error = f"HTTP {status}: {answer.body[:200]}"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure of the receiver is a failed attempt
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        attempt = Attempt(owner.clock.now(), status, (monotonic() - started) * 1000, error)
        delivery.attempts.append(attempt)
        if self.console is not None:
            self.console.webhook(getattr(owner, "name", owner.id), delivery, attempt)
        self.touched.add(owner.id)
        if lane.token == "gone":
            return
        queue = self.tenant(owner.id)
        queue.counts["attempts"] += 1
        if error is None:
            self._finish(queue, delivery, "delivered")
            queue.counts["delivered"] += 1
            self.delivered += 1
            self._advance_lane(lane)
            return
        queue.counts["failed_attempts"] += 1
        retry_at = self._retry_at(delivery)
        if retry_at is None:
            self._finish(queue, delivery, "dropped", "retries_exhausted")
            queue.counts["dropped_after_retries"] += 1
            self._advance_lane(lane)
            return
        delivery.state = "retrying"
        delivery.next_attempt_at = retry_at
        lane.token = "waiting"
        lane.timer = owner.clock.call_at(retry_at, partial(wake, self, lane))

    def _advance_lane(self, lane: Lane) -> None:
        if lane.queue:
            lane.queue.popleft()
        self._after_head(lane)

    def _after_head(self, lane: Lane) -> None:
        if lane.queue:
            self._mark_ready(lane)
        else:
            self._retire(lane)

    def _retire(self, lane: Lane) -> None:
        lane.token = "none"
        lane.timer = None
        if self._lanes.get(lane.key) is lane:
            del self._lanes[lane.key]

    @staticmethod
    def _retry_at(delivery: Delivery) -> datetime | None:
        """Meta retries "immediately, then with decreasing frequency" for up to 7 days (META-WH)."""
        policy = delivery.owner.policy
        schedule = policy.webhooks.retry_seconds
        failures = len(delivery.attempts)
        gap = schedule[min(failures - 1, len(schedule) - 1)]
        retry_at = delivery.owner.clock.now() + timedelta(seconds=gap)
        if retry_at - delivery.created_at > timedelta(seconds=policy.webhooks.retry_horizon_seconds):
            return None
        return retry_at


def wake(outbox: Outbox, lane: Lane) -> None:
    """A lane's timer (a module-level function: the timers are pickled with their tenant's clock)."""
    outbox.wake(lane)


def _keep(queue: TenantQueue, delivery_id: str, entry: Delivery | Logged, limit: int) -> None:
    """Log `entry`, forgetting the oldest beyond the policy's `journal.webhooks`."""
    log = queue.log
    log[delivery_id] = entry
    while len(log) > limit:
        log.popitem(last=False)
