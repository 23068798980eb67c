"""A template's quality and pauses over HTTP: the forced score, `message_template_quality_update`, PAUSED for 3
then 6 hours on the tenant clock with FIRST_PAUSE / SECOND_PAUSE / UNPAUSE, DISABLED the third time, and
`POST /{template-id}/unpause`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.domain.template import MessageTemplate
from sandbox.services.template_quality import template_reaction
from sandbox.testing import RecordingTransport, check_graph_error, settle

CUSTOMER = "447700900123"


def _hello(tenant: Tenant) -> MessageTemplate:
    return next(iter(tenant.store.templates))


def _force(client: TestClient, tenant: Tenant, template_id: str, body: Any) -> Any:
    return client.put(f"/_sandbox/tenants/{tenant.id}/templates/{template_id}/quality", json=body)


def _advance(client: TestClient, tenant: Tenant, hours: float) -> None:
    response = client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": hours * 3600})
    assert response.status_code == 200, response.text


def _changes(client: TestClient, transport: RecordingTransport, field: str) -> list[dict[str, Any]]:
    settle(client)
    return [
        change["value"]
        for payload in transport.payloads()
        for entry in payload["entry"]
        for change in entry["changes"]
        if change["field"] == field
    ]


def _send(client: TestClient, auth: dict[str, str], phone: str) -> Any:
    body = {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}}
    return client.post(
        f"/v23.0/{phone}/messages", headers=auth, json={"messaging_product": "whatsapp", "to": CUSTOMER, **body}
    )


def test_forcing_a_score_sends_the_quality_webhook_in_metas_shape(
    client: TestClient, tenant: Tenant, transport: RecordingTransport
) -> None:
    template = _hello(tenant)
    response = _force(client, tenant, template.id, {"score": "YELLOW"})
    assert response.status_code == 200, response.text
    assert response.json()["quality_score"] == {"score": "YELLOW", "date": int(tenant.clock.now().timestamp())}
    assert _changes(client, transport, "message_template_quality_update") == [
        {
            "previous_quality_score": "GREEN",
            "new_quality_score": "YELLOW",
            "message_template_id": int(template.id),
            "message_template_name": "hello_world",
            "message_template_language": "en_US",
        }
    ]
    assert template.status == "APPROVED"


def test_bad_quality_bodies_are_sandbox_errors_and_change_nothing(client: TestClient, tenant: Tenant) -> None:
    template = _hello(tenant)
    for body in ({"score": "PURPLE"}, {}, {"score": "RED", "extra": 1}, {"score": 3}):
        response = _force(client, tenant, template.id, body)
        assert response.status_code == 400 and response.json()["error"]["type"] == "SandboxError"
    assert _force(client, tenant, "999", {"score": "RED"}).status_code == 404
    assert template.quality_score == "GREEN" and template.status == "APPROVED"


def test_red_pauses_3_hours_then_6_then_disables(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    template = _hello(tenant)
    _force(client, tenant, template.id, {"score": "RED"})
    assert template.status == "PAUSED"
    check_graph_error(_send(client, auth, phone_number_id), 132015, 400)
    _advance(client, tenant, 2.99)
    assert template.status == "PAUSED"
    _advance(client, tenant, 0.01)
    assert template.status == "APPROVED"
    assert _send(client, auth, phone_number_id).status_code == 200
    _force(client, tenant, template.id, {"score": "RED"})
    _advance(client, tenant, 5.99)
    assert template.status == "PAUSED"
    _advance(client, tenant, 0.01)
    assert template.status == "APPROVED"
    _force(client, tenant, template.id, {"score": "RED"})
    assert template.status == "DISABLED"
    check_graph_error(_send(client, auth, phone_number_id), 132016, 400)
    events = _changes(client, transport, "message_template_status_update")
    assert [(e["event"], e.get("other_info", {}).get("title")) for e in events] == [
        ("PAUSED", "FIRST_PAUSE"),
        ("APPROVED", "UNPAUSE"),
        ("PAUSED", "SECOND_PAUSE"),
        ("APPROVED", "UNPAUSE"),
        ("DISABLED", None),
    ]
    paused, disabled = events[0], events[-1]
    assert set(paused) == {
        "event", "message_template_id", "message_template_name", "message_template_language", "reason", "other_info",
    }  # fmt: skip
    assert paused["reason"] == "NONE" and "3 hours" in paused["other_info"]["description"]
    assert "6 hours" in events[2]["other_info"]["description"]
    assert disabled["disable_info"] == {"disable_date": int(tenant.clock.now().timestamp())}
    assert "message_template_category" not in disabled and events[1]["message_template_category"] == "UTILITY"


def test_unpause_answers_success_and_ends_the_pause(
    client: TestClient, tenant: Tenant, auth: dict[str, str], transport: RecordingTransport
) -> None:
    template = _hello(tenant)
    refused = client.post(f"/v23.0/{template.id}/unpause", headers=auth)
    assert refused.status_code == 200 and refused.json()["success"] is False and "APPROVED" in refused.json()["reason"]
    _force(client, tenant, template.id, {"score": "RED"})
    response = client.post(f"/v23.0/{template.id}/unpause", headers=auth)
    assert response.json() == {"success": True}
    assert template.status == "APPROVED"
    _advance(client, tenant, 4)  # the cancelled timer does not fire a second UNPAUSE
    events = _changes(client, transport, "message_template_status_update")
    assert [e["event"] for e in events] == ["PAUSED", "APPROVED"]
    check_graph_error(client.post("/v23.0/123456789/unpause", headers=auth), 100, 400)


def test_reactions_make_the_score_and_red_pauses(client: TestClient, tenant: Tenant) -> None:
    template = _hello(tenant)
    tenant.policy.template_quality.min_reactions = 10
    now = tenant.clock.now()
    for _ in range(9):
        assert template_reaction(tenant, template.id, "read", now) == "GREEN"
    # 1 block in 10 reactions reaches yellow_share (0.1); 3 in 12 stays YELLOW, 4 in 13 reaches red_share (0.3).
    assert template_reaction(tenant, template.id, "block", now) == "YELLOW"
    for _ in range(2):
        template_reaction(tenant, template.id, "report", now)
    assert template.quality_score == "YELLOW" and template.status == "APPROVED"
    assert template_reaction(tenant, template.id, "report", now) == "RED"
    assert template.status == "PAUSED"
    # The pause starts a new window: reactions that paused it do not pause it again.
    _advance(client, tenant, 3)
    assert template.status == "APPROVED"
    template_reaction(tenant, template.id, "report", tenant.clock.now())
    assert template.status == "APPROVED"


def test_reactions_leave_the_window(tenant: Tenant) -> None:
    template = _hello(tenant)
    policy = tenant.policy.template_quality
    policy.min_reactions, policy.window_hours = 2, 1
    start = tenant.clock.now()
    template_reaction(tenant, template.id, "block", start)
    later = start + timedelta(hours=2)
    template_reaction(tenant, template.id, "read", later)
    assert template_reaction(tenant, template.id, "read", later) == "GREEN"
