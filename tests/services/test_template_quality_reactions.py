"""A customer's reaction to a template message scores the template too (meta-lifecycle.md §4.8): the reactions route
of the control plane feeds both the number's rating and the template's quality score, and RED pauses it."""

from __future__ import annotations

from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.testing import RecordingTransport

HELLO = {"name": "hello_world", "language": {"code": "en_US"}}


def _send_hello(client: TestClient, auth: dict[str, str], phone_number_id: str, to: str) -> str:
    body = {"messaging_product": "whatsapp", "to": to, "type": "template", "template": HELLO}
    answer = client.post(f"/v23.0/{phone_number_id}/messages", json=body, headers=auth)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["messages"][0]["id"])


def test_reports_of_template_messages_rate_the_template_red_and_pause_it(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    hello = next(t for t in tenant.store.templates if t.name == "hello_world")
    for n in range(10):
        wa_id = f"1555012{n:04d}"
        message_id = _send_hello(client, auth, phone_number_id, wa_id)
        answer = client.post(
            f"/_sandbox/tenants/{tenant.id}/customers/{wa_id}/reactions",
            json={"kind": "report", "phone_number_id": phone_number_id, "message_id": message_id},
        )
        assert answer.status_code == 200, answer.text
    assert hello.quality_score == "RED"
    assert hello.status == "PAUSED"
    fields = [c["field"] for p in transport.payloads() for e in p["entry"] for c in e["changes"]]
    assert "message_template_quality_update" in fields
    quality = client.get(f"/_sandbox/tenants/{tenant.id}/templates/{hello.id}/quality")
    assert quality.status_code == 200 and quality.json()["quality_score"]["score"] == "RED", quality.text


def test_a_reaction_to_a_text_message_leaves_templates_alone(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    hello = next(t for t in tenant.store.templates if t.name == "hello_world")
    before = hello.quality_score
    wa_id = "15550129999"
    _send_hello(client, auth, phone_number_id, wa_id)
    client.post(f"/_sandbox/tenants/{tenant.id}/customers/{wa_id}/messages", json={"text": "hi"})
    body = {"messaging_product": "whatsapp", "to": wa_id, "type": "text", "text": {"body": "hello"}}
    sent = client.post(f"/v23.0/{phone_number_id}/messages", json=body, headers=auth)
    assert sent.status_code == 200, sent.text
    answer = client.post(
        f"/_sandbox/tenants/{tenant.id}/customers/{wa_id}/reactions",
        json={"kind": "block", "phone_number_id": phone_number_id, "message_id": sent.json()["messages"][0]["id"]},
    )
    assert answer.status_code == 200, answer.text
    assert hello.quality_score == before
