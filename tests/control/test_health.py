"""`/_sandbox/health` reports the ticker, the outbox workers and the queues, and answers 503 when one is down."""

from __future__ import annotations

import asyncio
import time

from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox, Tenant
from sandbox.testing import RecordingTransport


def _health_once_stopped(client: TestClient) -> dict[str, object]:
    deadline = time.monotonic() + 5
    while (answer := client.get("/_sandbox/health")).status_code == 200:
        assert time.monotonic() < deadline, "health kept answering 200"
        client.portal.call(asyncio.sleep, 0.01)  # the server's loop runs meanwhile
    assert answer.status_code == 503
    return dict(answer.json())


def test_health_reports_the_machinery_and_the_queues(client: TestClient, sandbox: Sandbox) -> None:
    body = client.get("/_sandbox/health").json()
    assert body["status"] == "ok" and body["ticker"] == {"running": True}
    workers = sandbox.settings.delivery_concurrency
    assert body["outbox"]["running"] and body["outbox"]["workers"] == {"running": workers, "configured": workers}
    assert set(body["outbox"]["queues"]) == {"pending", "ready_lanes", "lanes", "in_flight", "idle_workers"}
    assert body["incidents"] == {}


def test_health_answers_503_once_the_ticker_stops(sandbox: Sandbox, tenant: Tenant) -> None:
    with TestClient(create_app(sandbox, transport=RecordingTransport())) as client:
        client.portal.call(sandbox.tasks["ticker"].cancel)
        body = _health_once_stopped(client)
    assert body["status"] == "degraded" and body["ticker"] == {"running": False}


def test_health_answers_503_once_an_outbox_worker_stops(sandbox: Sandbox, tenant: Tenant) -> None:
    with TestClient(create_app(sandbox, transport=RecordingTransport())) as client:
        client.portal.call(sandbox.outbox._workers[0].cancel)
        body = _health_once_stopped(client)
    assert body["status"] == "degraded" and body["outbox"]["running"] is False  # type: ignore[index]


def test_health_answers_503_before_the_machinery_runs(sandbox: Sandbox, tenant: Tenant) -> None:
    client = TestClient(create_app(sandbox, transport=RecordingTransport()))
    assert client.get("/_sandbox/health").status_code == 503
