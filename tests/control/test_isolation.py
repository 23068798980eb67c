"""One tenant's clock, schedule or failing work never stops the ticker or the outbox workers every tenant shares."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.testing import RecordingTransport, check_sandbox_error
from sandbox.webhooks.outbox import Outbox
from tests.conftest import START

OTHER = "http://other.test/webhook"


def _wait_for(client: TestClient, condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        client.portal.call(asyncio.sleep, 0.01)  # the server's loop runs meanwhile


def _broken(*_: Any, **__: Any) -> Any:
    raise OverflowError("date value out of range")


# -- bounds where the value is accepted ---------------------------------------------------------------------------


def test_a_clock_set_past_its_span_is_refused(client: TestClient, tenant: Tenant) -> None:
    clock = f"/_sandbox/tenants/{tenant.id}/clock"
    body = {"now": "9999-12-31T23:59:00Z", "mode": "realtime", "rate": 1_000_000}
    assert "2100-01-01T00:00:00Z" in check_sandbox_error(client.post(clock, json=body), 400)["message"]
    check_sandbox_error(client.post(f"{clock}/advance", json={"to": "1999-12-31T00:00:00Z"}), 400)
    check_sandbox_error(client.post("/_sandbox/tenants", json={"name": "far", "clock": {"now": "9999-01-01"}}), 400)
    assert client.get(clock).json()["now"] == "2026-01-05T09:00:00Z"


def test_ten_year_moves_stop_at_the_end_of_the_span(client: TestClient, tenant: Tenant) -> None:
    advance = f"/_sandbox/tenants/{tenant.id}/clock/advance"
    tenant.clock.advance(to=datetime(2095, 1, 1, tzinfo=UTC))
    check_sandbox_error(client.post(advance, json={"seconds": 10 * 365 * 86400}), 400)
    assert client.post(advance, json={"to": "2100-01-01T00:00:00Z"}).status_code == 200
    longest = client.post(f"/_sandbox/tenants/{tenant.id}/tokens", json={"expires_in": 10 * 365 * 86400})
    assert longest.status_code == 201
    assert client.get(f"/_sandbox/tenants/{tenant.id}/state").status_code == 200


def test_advancing_a_realtime_clock_by_nothing_is_a_no_op(client: TestClient, tenant: Tenant) -> None:
    client.post(f"/_sandbox/tenants/{tenant.id}/clock", json={"mode": "realtime"})
    answer = client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 0})
    assert answer.status_code == 200 and answer.json()["fired"] == 0


@pytest.mark.sandbox_errors
def test_a_policy_patch_that_fails_to_apply_changes_nothing(
    client: TestClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = client.get(f"/_sandbox/tenants/{tenant.id}/policy").json()
    ledger = type(tenant.store.ledger)
    resize, failures = ledger.resize, [MemoryError()]

    def fails_once(self: Any, size: int) -> None:
        if failures:
            raise failures.pop()
        resize(self, size)

    monkeypatch.setattr(ledger, "resize", fails_once)
    patch = {"journal": {"requests": 1_000_000, "messages": 7}, "pricing": {"ledger_entries": 50}}
    with pytest.raises(MemoryError):  # the test client re-raises what the server answered 500 to
        client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json=patch)
    monkeypatch.undo()
    assert client.get(f"/_sandbox/tenants/{tenant.id}/policy").json() == before
    assert tenant.store.messages.max_size == before["journal"]["messages"]


# -- containment --------------------------------------------------------------------------------------------------


@pytest.mark.sandbox_errors
def test_a_failing_tenant_clock_leaves_the_ticker_serving_the_others(
    sandbox: Sandbox, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = create_tenant(sandbox, CreateTenant(name="t2", clock=ConfigureClock(mode="realtime", rate=1000)))
    fired: list[str] = []
    with TestClient(create_app(sandbox, transport=RecordingTransport())) as client:
        monkeypatch.setattr(tenant.clock, "run_due", _broken)
        other.clock.call_later(60, lambda: fired.append("t2"))
        _wait_for(client, lambda: fired == ["t2"])
        health = client.get("/_sandbox/health")
        incidents = client.get(f"/_sandbox/tenants/{tenant.id}/state").json()["incidents"]
    assert health.status_code == 200 and health.json()["ticker"]["running"]
    assert health.json()["incidents"][tenant.id] >= 1
    assert incidents[0]["kind"] == "clock_failed" and "OverflowError" in incidents[0]["error"]


@pytest.mark.sandbox_errors
def test_a_delivery_that_fails_outside_its_attempt_leaves_the_workers_serving_the_others(
    sandbox: Sandbox, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.settings = dataclasses.replace(sandbox.settings, delivery_concurrency=1)
    other = create_tenant(
        sandbox, CreateTenant(name="t2", clock=ConfigureClock(mode="frozen"), webhook_url=OTHER), start=START
    )
    retry_at = Outbox._retry_at
    monkeypatch.setattr(Outbox, "_retry_at", staticmethod(lambda d: _broken() if d.owner is tenant else retry_at(d)))
    transport = RecordingTransport(answer=lambda posted: 200 if posted.url == OTHER else 500)
    inbound = {"from": "16505551234", "text": {"body": "hi"}}
    with TestClient(create_app(sandbox, transport=transport)) as client:
        client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json=inbound)
        _wait_for(client, lambda: bool(tenant.store.incidents))
        client.post(f"/_sandbox/tenants/{other.id}/inbound", json=inbound)
        _wait_for(client, lambda: len(transport.posted) == 1)
        [failed] = client.get(f"/_sandbox/tenants/{tenant.id}/webhooks").json()["data"]
        health = client.get("/_sandbox/health").json()
    assert failed["state"] == "dropped" and failed["drop_reason"] == "sandbox_error"
    assert health["outbox"]["running"] and health["outbox"]["workers"] == {"running": 1, "configured": 1}
    assert tenant.store.incidents.newest(1)[0]["kind"] == "delivery_failed"
