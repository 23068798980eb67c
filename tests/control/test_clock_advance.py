"""One `clock/advance` plays out everything that falls due on the way, webhook retries included."""

from __future__ import annotations

from itertools import pairwise

from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox, Tenant
from sandbox.testing import RecordingTransport


def test_advance_over_seven_days_runs_the_whole_retry_schedule_then_drops(sandbox: Sandbox, tenant: Tenant) -> None:
    receiver_down = RecordingTransport(answer=lambda _: 503)
    with TestClient(create_app(sandbox, transport=receiver_down)) as client:
        client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": "16505551234", "text": {"body": "hi"}})
        answer = client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 8 * 86400}).json()
        [delivery] = client.get(f"/_sandbox/tenants/{tenant.id}/webhooks").json()["data"]

    schedule = tenant.policy.webhooks.retry_seconds
    assert delivery["state"] == "dropped"
    assert answer["fired"] >= len(schedule)
    assert len(delivery["attempts"]) > len(schedule)
    assert all(attempt["status_code"] == 503 for attempt in delivery["attempts"])
    times = [_seconds(attempt["at"]) for attempt in delivery["attempts"]]
    gaps = [later - earlier for earlier, later in pairwise(times)]
    assert gaps[: len(schedule)] == [round(gap) for gap in schedule]


def test_advance_delivers_retries_once_the_receiver_is_back(sandbox: Sandbox, tenant: Tenant) -> None:
    up = {"value": False}
    transport = RecordingTransport(answer=lambda _: 200 if up["value"] else 500)
    with TestClient(create_app(sandbox, transport=transport)) as client:
        client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": "16505551234", "text": {"body": "hi"}})
        client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 30})
        up["value"] = True
        client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 3600})
        [delivery] = client.get(f"/_sandbox/tenants/{tenant.id}/webhooks").json()["data"]

    assert delivery["state"] == "delivered"
    assert [attempt["status_code"] for attempt in delivery["attempts"]][-1] == 200
    assert len(transport.posted) == 1


def _seconds(text: str) -> float:
    from sandbox.clock import parse_rfc3339

    return round(parse_rfc3339(text).timestamp())
