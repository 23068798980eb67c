"""Sends that name the customer by business-scoped user id (`recipient`, a BSUID) instead of `to`: the answer's
`contacts`, the status webhooks, the shared window, and Meta's refusals (docs/fidelity-choices.md)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.testing import RecordingTransport, check_graph_error, settle
from tests.api.test_messages import BODIES, CUSTOMER, open_window, statuses

UNKNOWN = "US.99999999999999999999"


def send_to_user(client: TestClient, auth: dict[str, str], phone: str, body: dict[str, Any]) -> Any:
    return client.post(f"/v23.0/{phone}/messages", headers=auth, json={"messaging_product": "whatsapp", **body})


def inbound_user_id(client: TestClient, tenant: Tenant, transport: RecordingTransport) -> str:
    """The BSUID the inbound `messages` webhook gave for `CUSTOMER`, as a bot reads it."""
    open_window(client, tenant)
    settle(client)
    [contact] = [
        payload["entry"][0]["changes"][0]["value"]["contacts"][0]
        for payload in transport.payloads()
        if "messages" in payload["entry"][0]["changes"][0]["value"]
    ]
    assert contact["wa_id"] == CUSTOMER
    return str(contact["user_id"])


def test_a_reply_by_bsuid_reaches_the_customer_who_wrote(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    user_id = inbound_user_id(client, tenant, transport)
    response = send_to_user(client, auth, phone_number_id, {"recipient": user_id, **BODIES["text"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["contacts"] == [{"input": user_id, "user_id": user_id}]
    wamid = body["messages"][0]["id"]
    settle(client)
    sent, delivered, read = statuses(transport, wamid)
    for status in (sent, delivered, read):
        assert status["recipient_id"] == CUSTOMER
        assert status["recipient_user_id"] == user_id
    assert sent["pricing"]["type"] == "free_customer_service"
    journal = client.get(f"/_sandbox/tenants/{tenant.id}/messages", params={"direction": "outbound"}).json()["data"]
    assert journal[0]["wa_id"] == CUSTOMER


def test_a_send_by_phone_number_carries_the_bsuid_except_when_failed(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    user_id = inbound_user_id(client, tenant, transport)
    wamid = send_to_user(client, auth, phone_number_id, {"to": CUSTOMER, **BODIES["text"]}).json()["messages"][0]["id"]
    failed = send_to_user(client, auth, phone_number_id, {"to": "15550100001", **BODIES["template"]}).json()
    settle(client)
    assert {status["recipient_user_id"] for status in statuses(transport, wamid)} == {user_id}
    [status] = statuses(transport, failed["messages"][0]["id"])
    assert status["status"] == "failed" and "recipient_user_id" not in status


def test_the_window_is_the_customers_whichever_way_they_are_named(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    # A template by phone number makes the customer known without opening a window.
    template = send_to_user(client, auth, phone_number_id, {"to": CUSTOMER, **BODIES["template"]}).json()
    settle(client)
    [user_id] = {status["recipient_user_id"] for status in statuses(transport, template["messages"][0]["id"])}
    closed = send_to_user(client, auth, phone_number_id, {"recipient": user_id, **BODIES["text"]}).json()
    settle(client)
    [failed] = statuses(transport, closed["messages"][0]["id"])
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131047
    assert failed["recipient_user_id"] == user_id
    open_window(client, tenant)
    reply = send_to_user(client, auth, phone_number_id, {"recipient": user_id, **BODIES["text"]}).json()
    settle(client)
    assert [status["status"] for status in statuses(transport, reply["messages"][0]["id"])] == [
        "sent",
        "delivered",
        "read",
    ]


def test_to_takes_precedence_over_recipient(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    inbound_user_id(client, tenant, transport)
    body = {"to": "+1 650-555-1234", "recipient": UNKNOWN, **BODIES["text"]}
    response = send_to_user(client, auth, phone_number_id, body)
    assert response.status_code == 200, response.text
    assert response.json()["contacts"] == [{"input": "+1 650-555-1234", "wa_id": CUSTOMER}]


@pytest.mark.parametrize("recipient", ["16505551234", "us.1349120865", "US.", "US.123-456", "US.ENT.", "U" * 300])
def test_a_malformed_bsuid_is_an_invalid_parameter(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, recipient: str
) -> None:
    response = send_to_user(client, auth, phone_number_id, {"recipient": recipient, **BODIES["text"]})
    error = check_graph_error(response, 100, 400)
    assert error["message"] == "(#100) Invalid parameter"
    assert error["error_data"]["details"] == "Parameter Invalid"
    assert client.get(f"/_sandbox/tenants/{tenant.id}/messages").json()["data"] == []


def test_a_bsuid_that_is_not_a_string_is_refused(
    client: TestClient, auth: dict[str, str], phone_number_id: str
) -> None:
    response = send_to_user(client, auth, phone_number_id, {"recipient": ["US.1"], **BODIES["text"]})
    check_graph_error(response, 100, 400)


def test_an_unknown_bsuid_is_refused_with_131009(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    response = send_to_user(client, auth, phone_number_id, {"recipient": UNKNOWN, **BODIES["template"]})
    error = check_graph_error(response, 131009, 400)
    assert error["message"] == "(#131009) Parameter value is not valid"
    assert error["error_data"]["details"] == (
        f"Invalid recipient: no WhatsApp user with the business-scoped user ID {UNKNOWN} is known to this business."
    )
    assert client.get(f"/_sandbox/tenants/{tenant.id}/messages").json()["data"] == []


def test_a_group_send_still_needs_to(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    user_id = inbound_user_id(client, tenant, transport)
    body = {"recipient_type": "group", "recipient": user_id, **BODIES["text"]}
    error = check_graph_error(send_to_user(client, auth, phone_number_id, body), 131008, 400)
    assert error["error_data"]["details"] == "The parameter to is required."


AUTHENTICATION = {
    "name": "login_code",
    "language": "en_US",
    "category": "AUTHENTICATION",
    "components": [
        {"type": "BODY", "add_security_recommendation": True},
        {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
    ],
}
CODE = [
    {"type": "body", "parameters": [{"type": "text", "text": "123456"}]},
    {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "123456"}]},
]


def test_an_authentication_template_to_a_bsuid_is_refused_with_131062(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    created = client.post(f"/v23.0/{tenant.waba_id}/message_templates", json=AUTHENTICATION, headers=auth).json()
    decided = client.post(
        f"/_sandbox/tenants/{tenant.id}/reviews",
        json={"kind": "template", "target": created["id"], "decision": "APPROVED"},
    )
    assert decided.status_code == 200, decided.text
    user_id = inbound_user_id(client, tenant, transport)
    template = {"name": "login_code", "language": {"code": "en_US"}, "components": CODE}
    by_phone = send_to_user(client, auth, phone_number_id, {"to": CUSTOMER, "type": "template", "template": template})
    assert by_phone.status_code == 200, by_phone.text
    body = {"recipient": user_id, "type": "template", "template": template}
    error = check_graph_error(send_to_user(client, auth, phone_number_id, body), 131062, 400)
    assert error["message"] == "(#131062) Business-scoped User ID recipients are not supported"
    assert error["error_data"]["details"] == "Business-scoped User ID recipients are not supported for this message."


def test_faults_on_a_recipient_match_its_sends_by_bsuid(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    user_id = inbound_user_id(client, tenant, transport)
    faults = f"/_sandbox/tenants/{tenant.id}/faults"
    for error in ({"code": 131000}, {"code": 131048}):
        added = client.post(faults, json={"match": {"recipient": "+1 650 555 1234"}, "error": error, "times": 1})
        assert added.status_code == 201, added.text
    check_graph_error(
        send_to_user(client, auth, phone_number_id, {"recipient": user_id, **BODIES["text"]}), 131000, 500
    )
    accepted = send_to_user(client, auth, phone_number_id, {"recipient": user_id, **BODIES["text"]})
    assert accepted.status_code == 200, accepted.text
    settle(client)
    [failed] = statuses(transport, accepted.json()["messages"][0]["id"])
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131048


def test_the_pair_rate_limit_counts_sends_by_phone_number_and_by_bsuid_together(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str, transport: RecordingTransport
) -> None:
    user_id = inbound_user_id(client, tenant, transport)
    tenant.policy.limits.pair_rate_burst = 4
    for recipient in ({"to": CUSTOMER}, {"recipient": user_id}, {"to": CUSTOMER}, {"recipient": user_id}):
        assert send_to_user(client, auth, phone_number_id, {**recipient, **BODIES["text"]}).status_code == 200
    response = send_to_user(client, auth, phone_number_id, {"recipient": user_id, **BODIES["text"]})
    check_graph_error(response, 131056, 400)
