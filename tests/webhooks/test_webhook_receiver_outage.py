"""Done-means: the receiver dies mid-run and comes back; after the retry schedule on an advanced clock every
delivery has arrived exactly once more (none lost, none doubled), in order per message.

Real sockets end to end: the sandbox server on one loopback port, the WebhookSink on another, stopped and started
again on the same port; once with the server's own transport and once with the aiohttp transport alone.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from sandbox.app import create_app
from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import WebhookSink, free_port, running_server
from sandbox.webhooks.transport import AiohttpTransport, HttpTransport

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ROUNDS = 6


def _wait(check: Any, what: str, rounds: int = 2000) -> Any:
    """Poll the control plane (each call yields to the server) until `check()` is truthy."""
    for _ in range(rounds):
        result = check()
        if result:
            return result
    raise AssertionError(f"gave up waiting for {what}")


def _conversations(http: httpx.Client, tenant: Tenant, offset: int) -> list[str]:
    wamids = []
    for n in range(ROUNDS):
        wa_id = f"1650555{3000 + offset + n}"
        http.post(f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": wa_id, "text": {"body": f"hi {n}"}})
        response = http.post(
            f"/{tenant.graph_version}/{tenant.document()['phone_number_id']}/messages",
            headers={"Authorization": f"Bearer {tenant.credentials.access_token}"},
            json={"messaging_product": "whatsapp", "to": wa_id, "type": "text", "text": {"body": "thanks"}},
        )
        assert response.status_code == 200, response.text
        wamids.append(response.json()["messages"][0]["id"])
    return wamids


@pytest.mark.server
@pytest.mark.parametrize("transport", [HttpTransport, AiohttpTransport])
def test_every_delivery_arrives_once_in_order_after_an_outage(serve_app: Any, transport: type) -> None:
    sandbox = Sandbox(Settings(seed=11))
    port = free_port()
    tenant: Tenant = create_tenant(
        sandbox,
        CreateTenant(name="outage", clock=ConfigureClock(mode="frozen"), webhook_url=f"http://127.0.0.1:{port}/hook"),
        start=START,
    )
    tenant.policy.messages.progression = "immediate"
    sink = WebhookSink(app_secret=tenant.credentials.app_secret)
    per_round = 4  # the inbound message, then sent, delivered, read

    app = create_app(sandbox, transport=transport())
    with running_server(app=app) as base, httpx.Client(base_url=base, timeout=10) as http:

        def log(**filters: Any) -> dict[str, Any]:
            return dict(
                http.get(
                    f"/_sandbox/tenants/{tenant.id}/webhooks", params={"payload": "false", "limit": 1000, **filters}
                ).json()
            )

        with serve_app(sink, port):
            before = _conversations(http, tenant, 0)
            assert sink.wait_for_accepted(ROUNDS * per_round)
        # The receiver is gone: connections are refused, attempts fail, lanes wait for their retries.
        during = _conversations(http, tenant, 100)
        heads = 2 * ROUNDS  # one lane per customer (inbound) and one per message (statuses)
        _wait(
            lambda: len([d for d in log(state="retrying")["data"] if len(d["attempts"]) == 2]) == heads,
            "every lane head to have failed twice (at once, then a retry)",
        )
        waiting = log()["summary"]
        assert waiting["queued"] == ROUNDS * per_round
        assert len(sink.accepted) == ROUNDS * per_round

        with serve_app(sink, port):
            # Nothing moves until the tenant clock reaches the next retry (60 s after the second failure).
            assert http.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 59}).status_code == 200
            assert log()["summary"]["queued"] == ROUNDS * per_round
            http.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 1})
            _wait(lambda: log()["summary"]["queued"] == 0, "the backlog to drain")
            assert sink.wait_for_accepted(2 * ROUNDS * per_round)
            # Further time changes nothing: nothing is left to retry.
            http.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 7 * 86400})

        summary = log()["summary"]

    accepted = sink.accepted
    assert all(item.signature_ok for item in accepted)
    copies = Counter(item.body for item in accepted)
    assert set(copies.values()) == {1}, "no delivery arrived twice"
    assert len(copies) == 2 * ROUNDS * per_round, "none was lost"
    for wamid in before + during:
        assert sink.statuses(wamid) == ["sent", "delivered", "read"]
    assert summary["delivered"] == 2 * ROUNDS * per_round
    assert summary["dropped_after_retries"] == summary["dropped_queue_full"] == 0
    assert summary["failed_attempts"] == 2 * heads
