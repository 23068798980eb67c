"""The outbox: routing, per-message order, retries on the tenant clock, the 7-day horizon, bounded queues."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sandbox.context import Sandbox, Tenant
from sandbox.testing import Posted, RecordingTransport
from sandbox.webhooks.signing import verify

CUSTOMER = "16505551234"


def test_statuses_arrive_signed_and_in_order(
    tenant: Tenant, transport: RecordingTransport, outbox_runner, send_text, inbound
) -> None:
    async def scenario() -> None:
        async with outbox_runner as runner:
            inbound(tenant, CUSTOMER)
            message = send_text(tenant, CUSTOMER)
            await runner.settle()
            assert transport.statuses(message.wamid) == ["sent", "delivered", "read"]
            for posted in transport.posted:
                assert posted.url == tenant.webhook.url
                assert verify(tenant.credentials.app_secret, posted.body, posted.headers["X-Hub-Signature-256"])

    asyncio.run(scenario())


def test_failed_attempts_retry_on_the_tenant_clock_and_keep_the_order(
    tenant: Tenant, transport: RecordingTransport, outbox_runner, send_text, inbound, sandbox: Sandbox
) -> None:
    failures = {"sent": 2}

    def answer(posted: Posted) -> int:
        status = transport_status(posted)
        if failures.get(status, 0) > 0:
            failures[status] -= 1
            return 500
        return 200

    transport.answer = answer

    async def scenario() -> None:
        async with outbox_runner as runner:
            inbound(tenant, CUSTOMER)
            message = send_text(tenant, CUSTOMER)
            await runner.settle()
            tenant.clock.run_due()
            await runner.settle()
            # `sent` failed twice (once retried at once), and `delivered`/`read` wait behind it in its lane.
            assert transport.statuses(message.wamid) == []
            assert len(transport.posted) == 1  # the inbound message, in a lane of its own
            sent = next(d for d in sandbox.outbox.log(tenant.id) if d.summary == "status sent")
            assert sent.state == "retrying"
            assert [a.status_code for a in sent.attempts] == [500, 500]
            assert sent.next_attempt_at == tenant.clock.now() + timedelta(seconds=60)
            tenant.clock.advance(59)
            await runner.settle()
            assert transport.statuses(message.wamid) == []
            tenant.clock.advance(1)
            await runner.settle()
            assert sent.state == "delivered"
            assert transport.statuses(message.wamid) == ["sent", "delivered", "read"]
            summary = sandbox.outbox.tenant(tenant.id).summary()
            assert summary["failed_attempts"] == 2
            assert summary["queued"] == 0

    asyncio.run(scenario())


def transport_status(posted: Posted) -> str | None:
    statuses = posted.json()["entry"][0]["changes"][0]["value"].get("statuses")
    return statuses[0]["status"] if statuses else None


def test_a_receiver_down_for_seven_days_has_its_deliveries_dropped(
    tenant: Tenant, transport: RecordingTransport, outbox_runner, inbound, sandbox: Sandbox
) -> None:
    transport.answer = lambda _: 503

    async def scenario() -> None:
        async with outbox_runner as runner:
            inbound(tenant, CUSTOMER)
            delivery = sandbox.outbox.log(tenant.id)[0]
            gaps = []
            while delivery.state != "dropped":
                await runner.settle()
                if delivery.next_attempt_at is not None:
                    gaps.append((delivery.next_attempt_at - tenant.clock.now()).total_seconds())
                    tenant.clock.advance(to=delivery.next_attempt_at)
            assert delivery.drop_reason == "retries_exhausted"
            assert tenant.clock.now() - delivery.created_at <= timedelta(days=7)
            # Retried at once, then with growing gaps.
            assert delivery.attempts[0].at == delivery.attempts[1].at == delivery.created_at
            assert gaps[:3] == [60, 300, 900]
            assert gaps == sorted(gaps)
            assert sandbox.outbox.tenant(tenant.id).summary()["dropped_after_retries"] == 1

    asyncio.run(scenario())


def test_connection_errors_and_timeouts_are_failed_attempts(
    tenant: Tenant, transport: RecordingTransport, outbox_runner, inbound, sandbox: Sandbox
) -> None:
    failures = iter([ConnectionRefusedError("refused"), TimeoutError()])

    def answer(_: Posted) -> int:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return 200

    transport.answer = answer

    async def scenario() -> None:
        async with outbox_runner as runner:
            inbound(tenant, CUSTOMER)
            await runner.settle()
            tenant.clock.advance(60)
            await runner.settle()
            delivery = sandbox.outbox.log(tenant.id)[0]
            assert [a.error for a in delivery.attempts] == ["ConnectionRefusedError: refused", "TimeoutError", None]
            assert delivery.state == "delivered"

    asyncio.run(scenario())


def _fill_dead_queue(tenant: Tenant, transport: RecordingTransport, inbound, count: int) -> list[str]:
    transport.answer = lambda _: 500
    return [inbound(tenant, f"1650555{1000 + n}").wamid for n in range(count)]


def test_a_full_queue_drops_the_oldest_and_counts_it(
    tenant: Tenant, transport: RecordingTransport, outbox_runner, inbound, sandbox: Sandbox
) -> None:
    tenant.policy.webhooks.queue_limit = 5

    async def scenario() -> None:
        async with outbox_runner as runner:
            wamids = _fill_dead_queue(tenant, transport, inbound, 12)
            await runner.settle()
            queue = sandbox.outbox.tenant(tenant.id)
            assert len(queue.pending) == 5
            assert queue.summary()["dropped_queue_full"] == 7
            kept = [d.wamids[0] for d in queue.pending.values()]
            assert kept == wamids[-5:]
            dropped = [d for d in sandbox.outbox.log(tenant.id) if d.drop_reason == "queue_full"]
            assert [d.wamids[0] for d in dropped] == wamids[:7]
            assert sandbox.outbox.backlog == 5

    asyncio.run(scenario())


def test_a_full_queue_can_refuse_the_newest_instead(
    tenant: Tenant, transport: RecordingTransport, outbox_runner, inbound, sandbox: Sandbox
) -> None:
    tenant.policy.patch({"webhook_queue_limit": 5, "webhook_overflow": "drop_newest"})

    async def scenario() -> None:
        async with outbox_runner as runner:
            wamids = _fill_dead_queue(tenant, transport, inbound, 8)
            await runner.settle()
            queue = sandbox.outbox.tenant(tenant.id)
            assert [d.wamids[0] for d in queue.pending.values()] == wamids[:5]
            assert queue.summary()["dropped_queue_full"] == 3

    asyncio.run(scenario())


def test_a_dead_receiver_holds_a_bounded_amount_of_memory(
    tenant: Tenant, transport: RecordingTransport, outbox_runner, inbound, sandbox: Sandbox
) -> None:
    tenant.policy.patch({"webhook_queue_limit": 50, "journal_webhooks": 100})

    async def scenario() -> None:
        async with outbox_runner as runner:
            _fill_dead_queue(tenant, transport, inbound, 1000)
            await runner.settle()
            assert sandbox.outbox.backlog == 50
            assert len(sandbox.outbox.log(tenant.id)) == 100
            assert sum(len(lane.queue) for lane in sandbox.outbox._lanes.values()) == 50

    asyncio.run(scenario())


def test_a_slow_receiver_times_out_on_the_policy_timeout(
    tenant: Tenant, outbox_runner, inbound, sandbox: Sandbox
) -> None:
    seen: list[float] = []

    class Slow(RecordingTransport):
        async def post(self, url, body, headers, timeout):  # type: ignore[no-untyped-def]
            seen.append(timeout)
            raise TimeoutError

    tenant.policy.webhooks.timeout_seconds = 1.5
    outbox_runner.transport = Slow()

    async def scenario() -> None:
        async with outbox_runner as runner:
            inbound(tenant, CUSTOMER)
            await runner.settle()
            assert seen[0] == 1.5
            assert sandbox.outbox.log(tenant.id)[0].attempts[0].error == "TimeoutError"

    asyncio.run(scenario())


def test_lowering_the_queue_limit_trims_the_queue(
    tenant: Tenant, transport: RecordingTransport, outbox_runner, inbound, sandbox: Sandbox
) -> None:
    async def scenario() -> None:
        async with outbox_runner as runner:
            _fill_dead_queue(tenant, transport, inbound, 20)
            await runner.settle()
            tenant.policy.webhooks.queue_limit = 5
            inbound(tenant, "16505559999")
            await runner.settle()
            assert sandbox.outbox.backlog == 5

    asyncio.run(scenario())
