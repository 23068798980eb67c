"""The outbox: signed deliveries in per-key FIFO lanes, attempted by async workers, retried on the tenant clock.

A lane holds the deliveries of one ordering key (a message's statuses, a customer's inbound messages), so a
message's `sent` never overtakes nothing before it; while a lane's head waits for a retry, the lane waits too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from sandbox.clock import TenantClock, monotonic, to_rfc3339
from sandbox.domain.policy import Policy
from sandbox.webhooks.transport import WebhookTransport

log = logging.getLogger("sandbox.webhooks")

DeliveryState = Literal["pending", "delivered", "retrying", "dropped", "no_callback"]


class DeliveryOwner(Protocol):
    """What the outbox needs from a tenant: its clock and policy, for timestamps and the retry schedule."""

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
    body: bytes
    headers: dict[str, str]
    ordering_key: str
    created_at: datetime
    state: DeliveryState = "pending"
    attempts: list[Attempt] = field(default_factory=list)
    next_attempt_at: datetime | None = None

    def snapshot(self, *, with_payload: bool = True) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "id": self.id,
            "field": self.field,
            "summary": self.summary,
            "url": self.url,
            "state": self.state,
            "created_at": to_rfc3339(self.created_at),
            "next_attempt_at": to_rfc3339(self.next_attempt_at) if self.next_attempt_at else None,
            "signature": self.headers.get("X-Hub-Signature-256"),
            "headers": self.headers,
            "attempts": [attempt.snapshot() for attempt in self.attempts],
        }
        if with_payload:
            doc["body"] = self.body.decode("ascii")
        return doc


class Outbox:
    """Every tenant's deliveries, their lanes and their logs; `run` is the async side that sends them."""

    def __init__(self) -> None:
        self._lanes: dict[tuple[str, str], deque[Delivery]] = {}
        self._ready: deque[tuple[str, str]] = deque()
        self._wakeup = asyncio.Event()
        self._logs: dict[str, OrderedDict[str, Delivery]] = {}
        self._ids = itertools.count(1)
        self._in_flight = 0
        self.delivered = 0

    # -- the synchronous side, called by services inside the event loop thread ---------------------------------

    def enqueue(
        self,
        owner: DeliveryOwner,
        url: str | None,
        field: str,
        summary: str,
        body: bytes,
        headers: dict[str, str],
        ordering_key: str,
    ) -> Delivery:
        delivery = Delivery(
            id=f"whd_{next(self._ids)}",
            owner=owner,
            url=url,
            field=field,
            summary=summary,
            body=body,
            headers=headers,
            ordering_key=ordering_key,
            created_at=owner.clock.now(),
            state="pending" if url else "no_callback",
        )
        self._remember(delivery)
        if url:
            self._append(delivery)
        return delivery

    def redeliver(self, delivery: Delivery, url: str | None) -> Delivery:
        copy = self.enqueue(
            delivery.owner, url, delivery.field, delivery.summary, delivery.body, dict(delivery.headers),
            f"redeliver:{delivery.id}",
        )
        return copy

    def _append(self, delivery: Delivery) -> None:
        lane_key = (delivery.owner.id, delivery.ordering_key)
        lane = self._lanes.get(lane_key)
        if lane is None:
            self._lanes[lane_key] = deque([delivery])
            self._mark_ready(lane_key)
        else:
            lane.append(delivery)

    def _mark_ready(self, lane_key: tuple[str, str]) -> None:
        self._ready.append(lane_key)
        self._wakeup.set()

    def _remember(self, delivery: Delivery) -> None:
        log_ = self._logs.setdefault(delivery.owner.id, OrderedDict())
        log_[delivery.id] = delivery
        while len(log_) > delivery.owner.policy.journal_webhooks:
            log_.popitem(last=False)

    def log(self, tenant_id: str) -> list[Delivery]:
        return list(self._logs.get(tenant_id, {}).values())

    def get(self, tenant_id: str, delivery_id: str) -> Delivery | None:
        return self._logs.get(tenant_id, {}).get(delivery_id)

    def forget_tenant(self, tenant_id: str) -> None:
        self._logs.pop(tenant_id, None)
        for lane_key in [key for key in self._lanes if key[0] == tenant_id]:
            del self._lanes[lane_key]

    @property
    def backlog(self) -> int:
        return sum(len(lane) for lane in self._lanes.values())

    def idle(self) -> bool:
        return not self._ready and self._in_flight == 0

    # -- the asynchronous side ----------------------------------------------------------------------------------

    async def run(self, transport: WebhookTransport, concurrency: int) -> None:
        workers = [asyncio.create_task(self._worker(transport)) for _ in range(concurrency)]
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*workers, return_exceptions=True)

    async def _worker(self, transport: WebhookTransport) -> None:
        while True:
            if not self._ready:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            lane_key = self._ready.popleft()
            lane = self._lanes.get(lane_key)
            if not lane:
                self._lanes.pop(lane_key, None)
                continue
            self._in_flight += 1
            try:
                await self._attempt(transport, lane_key, lane, lane[0])
            finally:
                self._in_flight -= 1

    async def _attempt(
        self, transport: WebhookTransport, lane_key: tuple[str, str], lane: deque[Delivery], delivery: Delivery
    ) -> None:
        owner = delivery.owner
        started = monotonic()
        status: int | None = None
        error: str | None = None
        try:
            answer = await transport.post(
                delivery.url or "", delivery.body, delivery.headers, owner.policy.webhook_timeout_seconds
            )
            status = answer.status
            if not 200 <= status < 300:
                error = f"HTTP {status}: {answer.body[:200]}"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of the receiver is a failed attempt
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        delivery.attempts.append(Attempt(owner.clock.now(), status, (monotonic() - started) * 1000, error))
        if error is None:
            delivery.state = "delivered"
            delivery.next_attempt_at = None
            self.delivered += 1
            self._advance_lane(lane_key, lane)
            return
        retry_at = self._retry_at(delivery)
        if retry_at is None:
            delivery.state = "dropped"
            delivery.next_attempt_at = None
            self._advance_lane(lane_key, lane)
            return
        delivery.state = "retrying"
        delivery.next_attempt_at = retry_at
        owner.clock.call_at(retry_at, lambda: self._mark_ready(lane_key))

    def _advance_lane(self, lane_key: tuple[str, str], lane: deque[Delivery]) -> None:
        lane.popleft()
        if lane:
            self._mark_ready(lane_key)
        elif self._lanes.get(lane_key) is lane:
            del self._lanes[lane_key]

    @staticmethod
    def _retry_at(delivery: Delivery) -> datetime | None:
        """Meta retries "immediately, then with decreasing frequency" for up to 7 days (META-WH)."""
        policy = delivery.owner.policy
        schedule = policy.webhook_retry_seconds
        failures = len(delivery.attempts)
        gap = schedule[min(failures - 1, len(schedule) - 1)]
        retry_at = delivery.owner.clock.now() + timedelta(seconds=gap)
        if retry_at - delivery.created_at > timedelta(seconds=policy.webhook_retry_horizon_seconds):
            return None
        return retry_at
