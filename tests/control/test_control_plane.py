"""Every `/_sandbox/` endpoint of the control-plane contract (docs/reference/control-plane.md), with its errors.

Each error path asserts the SandboxError envelope and the HTTP status (sandbox.testing.check_sandbox_error).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import RecordingTransport, check_graph_error, check_sandbox_error, settle

DOCUMENT_KEYS = {
    "id", "name", "profile", "access_token", "app_id", "app_secret", "verify_token", "business_id", "waba_id",
    "phone_number_id", "display_phone_number", "graph_version", "clock",
}  # fmt: skip
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
CUSTOMER = "16505551234"


def graph_send(client: TestClient, document: dict[str, Any], to: str = CUSTOMER, **body: Any) -> Any:
    return client.post(
        f"/v23.0/{document['phone_number_id']}/messages",
        headers={"Authorization": f"Bearer {document['access_token']}"},
        json={"messaging_product": "whatsapp", "to": to, **(body or {"type": "text", "text": {"body": "hi"}})},
    )


def template(client: TestClient, document: dict[str, Any], to: str = CUSTOMER) -> str:
    response = graph_send(
        client, document, to, type="template", template={"name": "hello_world", "language": {"code": "en_US"}}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["messages"][0]["id"])


# -- health, magic, errors ----------------------------------------------------------------------------------------


def test_health(client: TestClient) -> None:
    response = client.get("/_sandbox/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert isinstance(body["version"], str) and body["version"]


def test_magic_lists_the_reserved_numbers(client: TestClient) -> None:
    rows = client.get("/_sandbox/magic").json()["data"]
    assert {row.get("wa_id") for row in rows} >= {"15550100001", "15550100002", "15550100003"}
    assert all(row["behaviour"] for row in rows)


def test_errors_table(client: TestClient) -> None:
    rows = {row["code"]: row for row in client.get("/_sandbox/errors").json()["data"]}
    assert rows[131047]["title"] == "Re-engagement message"
    assert rows[132001]["http_status"] == 404


def test_unknown_control_path(client: TestClient) -> None:
    check_sandbox_error(client.get("/_sandbox/nothing/here"), 404)
    check_sandbox_error(client.post("/_sandbox/tenants/t1/nope"), 404)


def test_wrong_method_on_a_control_path(client: TestClient) -> None:
    check_sandbox_error(client.put("/_sandbox/health"), 405)
    check_sandbox_error(client.patch("/_sandbox/tenants"), 405)


# -- tenants ----------------------------------------------------------------------------------------------------


def test_create_tenant_document(client: TestClient) -> None:
    response = client.post("/_sandbox/tenants", json={"name": "acme"})
    assert response.status_code == 201
    document = response.json()
    assert set(document) >= DOCUMENT_KEYS
    assert document["id"] == document["name"] == "acme"
    assert document["profile"] == "live"
    assert document["access_token"].startswith("EAA")
    assert document["graph_version"] == "v23.0"
    assert set(document["clock"]) >= {"now", "mode", "rate"}
    assert RFC3339.match(document["clock"]["now"])
    assert graph_send(client, document).status_code == 200


def test_create_tenant_without_a_name_gets_one(client: TestClient) -> None:
    first = client.post("/_sandbox/tenants", json={}).json()
    second = client.post("/_sandbox/tenants").json()
    assert first["id"] != second["id"]


@pytest.mark.parametrize("profile", ["live", "trial", "blank"])
def test_profiles(client: TestClient, profile: str) -> None:
    document = client.post("/_sandbox/tenants", json={"name": f"p-{profile}", "profile": profile}).json()
    assert document["profile"] == profile
    state = client.get(f"/_sandbox/tenants/p-{profile}/state").json()
    if profile == "blank":
        assert "phone_number_id" not in document
        assert state["phone_numbers"] == [] and state["templates"] == []
    else:
        assert document["phone_number_id"]
        assert [t["name"] for t in state["templates"]] == ["hello_world"]
        assert state["templates"][0]["status"] == "APPROVED"
    mode = {"live": "LIVE", "trial": "SANDBOX", "blank": "LIVE"}[profile]
    assert state["wabas"][0]["account_mode"] == mode
    assert (state["trial"] is not None) == (profile == "trial")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"profile": "gold"}, 400),
        ({"name": ""}, 400),
        ({"name": "has space"}, 400),
        ({"name": "x" * 65}, 400),
        ({"name": 7}, 400),
        ({"seed": "7"}, 400),
        ({"seed": True}, 400),
        ({"webhook": "http://x"}, 400),
        ({"webhook": {"url": 5}}, 400),
        ({"clock": "frozen"}, 400),
        ({"clock": {"mode": "stopped"}}, 400),
        ({"clock": {"rate": 0}}, 400),
        ({"colour": "blue"}, 400),
    ],
)
def test_create_tenant_rejects(client: TestClient, body: dict[str, Any], status: int) -> None:
    check_sandbox_error(client.post("/_sandbox/tenants", json=body), status)


@pytest.mark.parametrize("raw", [b"{", b"[]", b'"x"', b"\xff"])
def test_create_tenant_bad_json(client: TestClient, raw: bytes) -> None:
    response = client.post("/_sandbox/tenants", content=raw, headers={"Content-Type": "application/json"})
    check_sandbox_error(response, 400)


def test_create_tenant_duplicate_name(client: TestClient) -> None:
    client.post("/_sandbox/tenants", json={"name": "twice"})
    check_sandbox_error(client.post("/_sandbox/tenants", json={"name": "twice"}), 409)


def test_list_get_delete_tenant(client: TestClient, tenant: Tenant) -> None:
    client.post("/_sandbox/tenants", json={"name": "second"})
    listed = client.get("/_sandbox/tenants").json()["data"]
    assert {doc["id"] for doc in listed} == {tenant.id, "second"}
    assert client.get("/_sandbox/tenants/second").json()["id"] == "second"
    token = client.get("/_sandbox/tenants/second").json()["access_token"]
    assert client.delete("/_sandbox/tenants/second").json() == {"success": True}
    check_sandbox_error(client.get("/_sandbox/tenants/second"), 404)
    check_sandbox_error(client.delete("/_sandbox/tenants/second"), 404)
    # The deleted tenant's token no longer reaches anything.
    check_graph_error(client.get("/v23.0/me", headers={"Authorization": f"Bearer {token}"}), 190, 401)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""), ("DELETE", ""), ("POST", "/reset"), ("GET", "/state"), ("GET", "/clock"), ("POST", "/clock"),
        ("POST", "/clock/advance"), ("POST", "/inbound"), ("GET", "/customers"), ("PUT", f"/customers/{CUSTOMER}"),
        ("GET", "/requests"), ("GET", "/messages"), ("GET", "/webhooks"), ("GET", "/policy"), ("PATCH", "/policy"),
        ("GET", "/webhook"), ("PUT", "/webhook"), ("POST", "/tokens"), ("POST", "/messages/wamid.x/deliver"),
    ],
)  # fmt: skip
def test_unknown_tenant_is_404_everywhere(client: TestClient, method: str, path: str) -> None:
    check_sandbox_error(client.request(method, f"/_sandbox/tenants/nobody{path}", json={}), 404)


def test_same_seed_same_world_but_never_the_same_ids(client: TestClient) -> None:
    first = client.post("/_sandbox/tenants", json={"name": "a", "seed": 42}).json()
    second = client.post("/_sandbox/tenants", json={"name": "b", "seed": 42}).json()
    assert first["display_phone_number"] == second["display_phone_number"]
    for key in ("app_id", "app_secret", "access_token", "verify_token", "waba_id", "phone_number_id", "business_id"):
        assert first[key] != second[key], key
    state_a = client.get("/_sandbox/tenants/a/state").json()
    state_b = client.get("/_sandbox/tenants/b/state").json()
    assert [t["name"] for t in state_a["templates"]] == [t["name"] for t in state_b["templates"]]
    assert [b["name"] for b in state_a["businesses"]] == [b["name"] for b in state_b["businesses"]]


def test_a_seeded_tenant_created_again_under_its_name_replays_its_ids(client: TestClient) -> None:
    first = client.post("/_sandbox/tenants", json={"name": "a", "seed": 42}).json()
    client.delete("/_sandbox/tenants/a")
    again = client.post("/_sandbox/tenants", json={"name": "a", "seed": 42}).json()
    assert {**first, "clock": None} == {**again, "clock": None}


def test_same_seed_tenants_stay_isolated(client: TestClient) -> None:
    """Two tenants built from one seed share neither ids nor a token: each token reaches its own tenant only."""
    first = client.post("/_sandbox/tenants", json={"name": "a", "seed": 42}).json()
    second = client.post("/_sandbox/tenants", json={"name": "b", "seed": 42}).json()
    assert first["access_token"] != second["access_token"]
    template(client, first)
    assert len(client.get("/_sandbox/tenants/a/messages").json()["data"]) == 1
    assert client.get("/_sandbox/tenants/b/messages").json()["data"] == []
    client.delete("/_sandbox/tenants/b")
    assert graph_send(client, first).status_code == 200


def test_isolation_between_tenants(client: TestClient, tenant: Tenant) -> None:
    other = client.post("/_sandbox/tenants", json={"name": "other"}).json()
    mine = tenant.document()
    template(client, mine)
    client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": CUSTOMER, "text": {"body": "hi"}})
    assert client.get("/_sandbox/tenants/other/messages").json()["data"] == []
    assert client.get("/_sandbox/tenants/other/customers").json()["data"] == []
    assert client.get("/_sandbox/tenants/other/requests").json()["data"] == []
    check_graph_error(graph_send(client, {**other, "phone_number_id": mine["phone_number_id"]}), 100, 400, subcode=33)


def test_reset_tenant(client: TestClient, tenant: Tenant) -> None:
    before = client.get(f"/_sandbox/tenants/{tenant.id}").json()
    template(client, before)
    client.put(f"/_sandbox/tenants/{tenant.id}/customers/{CUSTOMER}", json={"reads": "never"})
    after = client.post(f"/_sandbox/tenants/{tenant.id}/reset", json={})
    assert after.status_code == 200
    document = after.json()
    assert document["access_token"] == before["access_token"]
    assert document["phone_number_id"] == before["phone_number_id"]
    assert client.get(f"/_sandbox/tenants/{tenant.id}/messages").json()["data"] == []
    assert client.get(f"/_sandbox/tenants/{tenant.id}/customers").json()["data"] == []
    assert graph_send(client, document).status_code == 200


def test_reset_tenant_with_a_new_seed(client: TestClient, tenant: Tenant) -> None:
    before = client.get(f"/_sandbox/tenants/{tenant.id}").json()
    document = client.post(f"/_sandbox/tenants/{tenant.id}/reset", json={"seed": 99}).json()
    assert document["phone_number_id"] != before["phone_number_id"]
    check_graph_error(graph_send(client, before), 190, 401)
    assert graph_send(client, document).status_code == 200


@pytest.mark.parametrize("body", [{"seed": "x"}, {"seed": 1.5}])
def test_reset_rejects_a_bad_seed(client: TestClient, tenant: Tenant, body: dict[str, Any]) -> None:
    check_sandbox_error(client.post(f"/_sandbox/tenants/{tenant.id}/reset", json=body), 400)
    check_sandbox_error(client.post("/_sandbox/reset", json=body), 400)


def test_reset_sandbox(client: TestClient, tenant: Tenant) -> None:
    client.post("/_sandbox/tenants", json={"name": "x"})
    response = client.post("/_sandbox/reset", json={})
    assert response.status_code == 200
    assert response.json()["id"] == "default"
    assert [doc["id"] for doc in client.get("/_sandbox/tenants").json()["data"]] == ["default"]


def test_state_snapshot(client: TestClient, tenant: Tenant) -> None:
    client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": CUSTOMER, "text": {"body": "hi"}})
    state = client.get(f"/_sandbox/tenants/{tenant.id}/state").json()
    assert {
        "tenant",
        "policy",
        "businesses",
        "wabas",
        "phone_numbers",
        "templates",
        "customers",
        "windows",
        "messages",
    } <= set(state)
    [window] = state["windows"]
    assert window["wa_id"] == CUSTOMER and window["open"] is True
    assert RFC3339.match(window["closes_at"])
    assert RFC3339.match(state["messages"][0]["created_at"])


def test_times_are_rfc3339_utc(client: TestClient, tenant: Tenant) -> None:
    issued = client.post(f"/_sandbox/tenants/{tenant.id}/tokens", json={"expires_in": 60}).json()
    assert RFC3339.match(issued["expires_at"]), issued
    template(client, tenant.document())
    message = client.get(f"/_sandbox/tenants/{tenant.id}/messages").json()["data"][0]
    assert RFC3339.match(message["created_at"]), message
    assert all(RFC3339.match(entry["timestamp"]) for entry in message["history"]), message


# -- tokens -----------------------------------------------------------------------------------------------------


def test_issue_token(client: TestClient, tenant: Tenant) -> None:
    issued = client.post(f"/_sandbox/tenants/{tenant.id}/tokens", json={})
    assert issued.status_code == 201
    body = issued.json()
    assert body["expires_at"] is None
    assert graph_send(client, {**tenant.document(), "access_token": body["access_token"]}).status_code == 200


@pytest.mark.parametrize("body", [{"expires_in": -1}, {"expires_in": "60"}, {"expires_in": True}])
def test_issue_token_rejects(client: TestClient, tenant: Tenant, body: dict[str, Any]) -> None:
    check_sandbox_error(client.post(f"/_sandbox/tenants/{tenant.id}/tokens", json=body), 400)


# -- clock ------------------------------------------------------------------------------------------------------


def test_tenant_starts_exactly_at_its_frozen_start(client: TestClient, tenant: Tenant) -> None:
    assert client.get(f"/_sandbox/tenants/{tenant.id}/clock").json() == {
        "now": "2026-01-05T09:00:00Z", "mode": "frozen", "rate": 1.0, "pending_events": 0,
    }  # fmt: skip


def test_clock_get_set_advance(client: TestClient, tenant: Tenant) -> None:
    base = f"/_sandbox/tenants/{tenant.id}/clock"
    advanced = client.post(f"{base}/advance", json={"seconds": 3600})
    assert advanced.status_code == 200
    assert advanced.json() == {"now": "2026-01-05T10:00:00Z", "fired": 0}
    moved = client.post(f"{base}/advance", json={"to": "2026-01-06T10:00:00Z"}).json()
    assert moved["now"] == "2026-01-06T10:00:00Z"
    configured = client.post(base, json={"mode": "realtime", "rate": 60})
    assert configured.status_code == 200
    assert configured.json()["mode"] == "realtime" and configured.json()["rate"] == 60.0
    frozen = client.post(base, json={"mode": "frozen"}).json()
    assert frozen["mode"] == "frozen"


def test_advance_fires_scheduled_statuses_in_order(
    client: TestClient, tenant: Tenant, transport: RecordingTransport
) -> None:
    client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"progression": "scheduled"})
    wamid = template(client, tenant.document())
    settle(client)
    assert transport.statuses(wamid) == []
    fired = client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 60}).json()["fired"]
    assert fired >= 3
    settle(client)
    assert transport.statuses(wamid) == ["sent", "delivered", "read"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/clock/advance", {}),
        ("/clock/advance", {"seconds": -1}),
        ("/clock/advance", {"seconds": "60"}),
        ("/clock/advance", {"seconds": True}),
        ("/clock/advance", {"seconds": 1e12}),
        ("/clock/advance", {"to": "yesterday"}),
        ("/clock/advance", {"to": "2020-01-01T00:00:00Z"}),
        ("/clock", {"mode": "paused"}),
        ("/clock", {"rate": -2}),
        ("/clock", {"rate": "fast"}),
        ("/clock", {"now": "not a time"}),
    ],
)
def test_clock_rejects(client: TestClient, tenant: Tenant, path: str, body: dict[str, Any]) -> None:
    check_sandbox_error(client.post(f"/_sandbox/tenants/{tenant.id}{path}", json=body), 400)
    assert client.get(f"/_sandbox/tenants/{tenant.id}/clock").json()["now"] == "2026-01-05T09:00:00Z"


def test_clock_requires_a_body(client: TestClient, tenant: Tenant) -> None:
    check_sandbox_error(client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance"), 400)


# -- inbound and customers --------------------------------------------------------------------------------------

INBOUND = {
    "text": {"text": {"body": "Does it come in another color?"}},
    "image": {"image": {"caption": "Taj Mahal"}},
    "video": {"video": {"caption": "clip"}},
    "audio": {"audio": {"voice": True}},
    "document": {"document": {"filename": "a.pdf"}},
    "sticker": {"sticker": {"animated": False}},
    "location": {"location": {"latitude": 37.46, "longitude": -122.21, "name": "Facebook HQ"}},
    "contacts": {"contacts": [{"name": {"formatted_name": "Chandler Bing"},
                               "phones": [{"phone": "+1 555-555-5555", "wa_id": "15555555555"}]}]},
    "interactive": {"interactive": {"type": "button_reply", "button_reply": {"id": "cancel", "title": "Cancel"}}},
    "interactive-list": {"interactive": {"type": "list_reply", "list_reply": {"id": "a", "title": "A"}}},
    "button": {"button": {"payload": "callback_data", "text": "title"}},
    "reaction": {"reaction": {"message_id": "wamid.x", "emoji": "😮"}},
    "request_welcome": {},
}  # fmt: skip


@pytest.mark.parametrize("kind", list(INBOUND))
def test_inbound_of_each_type(client: TestClient, tenant: Tenant, transport: RecordingTransport, kind: str) -> None:
    message_type = kind.split("-")[0]
    body = {"from": CUSTOMER, "type": message_type, "profile": {"name": "Sheena Nelson"}, **INBOUND[kind]}
    if message_type in ("interactive", "button"):
        # A reply taps a business message, so there must be one to quote.
        body["context"] = {"message_id": template(client, tenant.document())}
    response = client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json=body)
    assert response.status_code == 200, response.text
    wamid = response.json()["message"]["id"]
    settle(client)
    [payload] = [p for p in transport.payloads() if "messages" in p["entry"][0]["changes"][0]["value"]]
    value = payload["entry"][0]["changes"][0]["value"]
    assert value["contacts"][0]["profile"] == {"name": "Sheena Nelson"}
    assert value["contacts"][0]["wa_id"] == CUSTOMER
    [message] = value["messages"]
    assert (message["id"], message["from"], message["type"]) == (wamid, CUSTOMER, message_type)
    assert message["timestamp"] == "1767603600"
    if message_type in ("image", "video", "audio", "document", "sticker"):
        assert {"id", "mime_type", "sha256"} <= set(message[message_type])
    window = client.get(f"/_sandbox/tenants/{tenant.id}/state").json()["windows"]
    assert [w["wa_id"] for w in window] == [CUSTOMER]


def test_inbound_with_context(client: TestClient, tenant: Tenant, transport: RecordingTransport) -> None:
    wamid = template(client, tenant.document())
    client.post(
        f"/_sandbox/tenants/{tenant.id}/inbound",
        json={"from": CUSTOMER, "text": {"body": "reply"}, "context": {"message_id": wamid}},
    )
    settle(client)
    inbound = [p for p in transport.payloads() if "messages" in p["entry"][0]["changes"][0]["value"]]
    context = inbound[0]["entry"][0]["changes"][0]["value"]["messages"][0]["context"]
    assert context == {"from": tenant.document()["display_phone_number"], "id": wamid}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"from": "abc", "text": {"body": "x"}},
        {"from": "123", "text": {"body": "x"}},
        {"from": "١٦٥٠٥٥٥١٢٣٤", "text": {"body": "x"}},
        {"from": CUSTOMER, "type": "poll", "poll": {}},
        {"from": CUSTOMER, "type": "text"},
        {"from": CUSTOMER, "type": "text", "text": {"body": 5}},
        {"from": CUSTOMER, "type": "text", "text": "hi"},
        {"from": CUSTOMER, "type": "location", "location": {"latitude": 1}},
        {"from": CUSTOMER, "type": "contacts", "contacts": []},
        {"from": CUSTOMER, "type": "interactive", "interactive": {"type": "nope"}},
        {"from": CUSTOMER, "text": {"body": "x"}, "context": "wamid"},
        {"from": CUSTOMER, "text": {"body": "x"}, "profile": {"name": 1}},
        {"from": CUSTOMER, "text": {"body": "x"}, "phone_number_id": 5},
    ],
)
def test_inbound_rejects(client: TestClient, tenant: Tenant, body: dict[str, Any]) -> None:
    check_sandbox_error(client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json=body), 400)


def test_inbound_to_an_unknown_number(client: TestClient, tenant: Tenant) -> None:
    response = client.post(
        f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": CUSTOMER, "text": {"body": "x"}, "phone_number_id": "1"}
    )
    check_sandbox_error(response, 404)


def test_inbound_to_a_tenant_without_numbers(client: TestClient) -> None:
    client.post("/_sandbox/tenants", json={"name": "empty", "profile": "blank"})
    check_sandbox_error(
        client.post("/_sandbox/tenants/empty/inbound", json={"from": CUSTOMER, "text": {"body": "x"}}), 409
    )


def test_customers(client: TestClient, tenant: Tenant, transport: RecordingTransport) -> None:
    base = f"/_sandbox/tenants/{tenant.id}/customers"
    check_sandbox_error(client.get(f"{base}/{CUSTOMER}"), 404)
    updated = client.put(f"{base}/{CUSTOMER}", json={"reads": "never", "profile_name": "Pablo"})
    assert updated.status_code == 200
    assert updated.json()["reads"] == "never" and updated.json()["profile_name"] == "Pablo"
    assert client.get(f"{base}/{CUSTOMER}").json()["wa_id"] == CUSTOMER
    assert [c["wa_id"] for c in client.get(base).json()["data"]] == [CUSTOMER]
    wamid = template(client, tenant.document())
    settle(client)
    assert transport.statuses(wamid) == ["sent", "delivered"]


def test_customer_not_on_whatsapp(client: TestClient, tenant: Tenant, transport: RecordingTransport) -> None:
    client.put(f"/_sandbox/tenants/{tenant.id}/customers/{CUSTOMER}", json={"on_whatsapp": False})
    wamid = template(client, tenant.document())
    settle(client)
    assert transport.statuses(wamid) == ["failed"]


@pytest.mark.parametrize(
    "body",
    [
        {"reads": "sometimes"},
        {"delivery": 1},
        {"on_whatsapp": "yes"},
        {"fail_code": 99999},
        {"fail_code": True},
        {"mood": "happy"},
        {"profile_name": 5},
    ],
)
def test_customer_rejects(client: TestClient, tenant: Tenant, body: dict[str, Any]) -> None:
    base = f"/_sandbox/tenants/{tenant.id}/customers/{CUSTOMER}"
    check_sandbox_error(client.put(base, json=body), 400)
    check_sandbox_error(client.get(base), 404)


def test_customer_bad_wa_id(client: TestClient, tenant: Tenant) -> None:
    check_sandbox_error(client.put(f"/_sandbox/tenants/{tenant.id}/customers/abc", json={}), 400)


# -- manual message actions --------------------------------------------------------------------------------------


def test_manual_progression(client: TestClient, tenant: Tenant, transport: RecordingTransport) -> None:
    client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"progression": "manual"})
    wamid = template(client, tenant.document())
    settle(client)
    assert transport.statuses(wamid) == []
    # `sent` is the platform's own move, after the policy's sent_delay; only delivery and reading are by hand.
    client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 1})
    settle(client)
    assert transport.statuses(wamid) == ["sent"]
    delivered = client.post(f"/_sandbox/tenants/{tenant.id}/messages/{wamid}/deliver")
    assert delivered.status_code == 200 and delivered.json()["status"] == "delivered"
    read = client.post(f"/_sandbox/tenants/{tenant.id}/messages/{wamid}/read").json()
    assert [entry["status"] for entry in read["history"]] == ["accepted", "sent", "delivered", "read"]
    settle(client)
    assert transport.statuses(wamid) == ["sent", "delivered", "read"]
    check_sandbox_error(client.post(f"/_sandbox/tenants/{tenant.id}/messages/{wamid}/deliver"), 409)
    check_sandbox_error(client.post(f"/_sandbox/tenants/{tenant.id}/messages/{wamid}/fail", json={"code": 131026}), 409)


def test_manual_fail_with_a_code(client: TestClient, tenant: Tenant, transport: RecordingTransport) -> None:
    client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"progression": "manual"})
    wamid = template(client, tenant.document())
    failed = client.post(
        f"/_sandbox/tenants/{tenant.id}/messages/{wamid}/fail", json={"code": 131049, "details": "no marketing today"}
    )
    assert failed.status_code == 200
    assert failed.json()["errors"] == [{"code": 131049, "details": "no marketing today"}]
    settle(client)
    last = transport.payloads()[-1]["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert last["status"] == "failed"
    assert last["errors"][0]["code"] == 131049
    assert last["errors"][0]["error_data"]["details"] == "no marketing today"


@pytest.mark.parametrize(
    ("action", "body", "status"),
    [
        ("deliver", {}, 404),
        ("fail", {"code": 42}, 400),
        ("fail", {"code": "131026"}, 400),
        ("fail", {"details": 5}, 400),
        ("explode", {}, 404),
    ],
)
def test_manual_action_rejects(
    client: TestClient, tenant: Tenant, action: str, body: dict[str, Any], status: int
) -> None:
    client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"progression": "manual"})
    wamid = template(client, tenant.document()) if status != 404 or action == "explode" else "wamid.unknown"
    check_sandbox_error(client.post(f"/_sandbox/tenants/{tenant.id}/messages/{wamid}/{action}", json=body), status)


def test_manual_action_on_an_inbound_message_is_404(client: TestClient, tenant: Tenant) -> None:
    wamid = client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": CUSTOMER, "text": {"body": "x"}}).json()
    check_sandbox_error(client.post(f"/_sandbox/tenants/{tenant.id}/messages/{wamid['message']['id']}/read"), 404)


# -- journals ---------------------------------------------------------------------------------------------------


def test_requests_journal(client: TestClient, tenant: Tenant) -> None:
    document = tenant.document()
    template(client, document)
    graph_send(client, document, type="template", template={"name": "nope", "language": {"code": "en"}})
    entries = client.get(f"/_sandbox/tenants/{tenant.id}/requests").json()["data"]
    assert [(e["method"], e["status"], e["error_code"]) for e in entries] == [
        ("POST", 404, 132001),
        ("POST", 200, None),
    ]
    assert all(RFC3339.match(e["time"]) for e in entries)
    only_errors = client.get(f"/_sandbox/tenants/{tenant.id}/requests", params={"status": "404"}).json()["data"]
    assert len(only_errors) == 1
    assert len(client.get(f"/_sandbox/tenants/{tenant.id}/requests", params={"limit": 1}).json()["data"]) == 1


def test_messages_journal_filters(client: TestClient, tenant: Tenant) -> None:
    document = tenant.document()
    template(client, document)
    template(client, document, to="447700900123")
    client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": CUSTOMER, "text": {"body": "x"}})
    base = f"/_sandbox/tenants/{tenant.id}/messages"
    assert len(client.get(base).json()["data"]) == 3
    assert len(client.get(base, params={"to": "+447700900123"}).json()["data"]) == 1
    assert len(client.get(base, params={"direction": "inbound"}).json()["data"]) == 1
    assert len(client.get(base, params={"status": "read"}).json()["data"]) == 2
    assert len(client.get(base, params={"since": "2026-01-05T09:00:00Z"}).json()["data"]) == 3
    assert client.get(base, params={"since": "2026-01-06T00:00:00Z"}).json()["data"] == []
    assert len(client.get(base, params={"limit": "2"}).json()["data"]) == 2


def test_webhooks_journal_and_redeliver(client: TestClient, tenant: Tenant, transport: RecordingTransport) -> None:
    template(client, tenant.document())
    settle(client)
    deliveries = client.get(f"/_sandbox/tenants/{tenant.id}/webhooks").json()["data"]
    assert len(deliveries) == 3
    assert all(d["field"] == "messages" and d["signature"].startswith("sha256=") for d in deliveries)
    assert (
        len(
            client.get(f"/_sandbox/tenants/{tenant.id}/webhooks", params={"field": "messages", "limit": 2}).json()[
                "data"
            ]
        )
        == 2
    )
    assert client.get(f"/_sandbox/tenants/{tenant.id}/webhooks", params={"field": "security"}).json()["data"] == []
    redelivered = client.post(f"/_sandbox/tenants/{tenant.id}/webhooks/{deliveries[0]['id']}/redeliver")
    assert redelivered.status_code == 201
    settle(client)
    assert transport.posted[-1].body == transport.posted[0].body or len(transport.posted) == 4
    check_sandbox_error(client.post(f"/_sandbox/tenants/{tenant.id}/webhooks/whd_nope/redeliver"), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/requests?limit=0",
        "/requests?limit=x",
        "/messages?limit=-3",
        "/messages?since=yesterday",
        "/webhooks?since=later",
        "/webhooks?limit=²",
    ],
)
def test_journal_rejects(client: TestClient, tenant: Tenant, path: str) -> None:
    check_sandbox_error(client.get(f"/_sandbox/tenants/{tenant.id}{path}"), 400)


# -- webhook settings --------------------------------------------------------------------------------------------


def test_webhook_settings_with_verification(client: TestClient, tenant: Tenant, transport: RecordingTransport) -> None:
    response = client.put(
        f"/_sandbox/tenants/{tenant.id}/webhook", json={"url": "https://example.test/hook", "verify_token": "s3cret"}
    )
    assert response.status_code == 200
    assert client.get(f"/_sandbox/tenants/{tenant.id}/webhook").json() == {
        "url": "https://example.test/hook", "verify_token": "s3cret",
    }  # fmt: skip


def test_webhook_verification_failure(client: TestClient, tenant: Tenant, transport: RecordingTransport) -> None:
    from sandbox.webhooks.transport import Answer

    transport.challenge_answer = lambda url, params: Answer(403, "nope")
    response = client.put(f"/_sandbox/tenants/{tenant.id}/webhook", json={"url": "https://example.test/bad"})
    error = check_sandbox_error(response, 400)
    assert "403" in error["message"]
    assert client.get(f"/_sandbox/tenants/{tenant.id}/webhook").json()["url"] == "http://receiver.test/webhook"


@pytest.mark.parametrize("body", [{"url": 5}, {"url": "ftp://x"}, {"url": "x", "verify_token": 1}, {"verify": "no"}])
def test_webhook_settings_reject(client: TestClient, tenant: Tenant, body: dict[str, Any]) -> None:
    check_sandbox_error(client.put(f"/_sandbox/tenants/{tenant.id}/webhook", json=body), 400)


# -- admin token ------------------------------------------------------------------------------------------------


@pytest.fixture
def guarded() -> Iterator[TestClient]:
    sandbox = Sandbox(Settings(seed=1, admin_token="let-me-in-0123456789"))
    create_tenant(sandbox, CreateTenant(name="default"))
    with TestClient(create_app(sandbox, transport=RecordingTransport())) as client:
        yield client


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong", "let-me-in", "Basic let-me-in", "bearer let-me-in ", "Bearer let-me-in", b"Bearer \xe9"],
)
def test_admin_token_guard_refuses(guarded: TestClient, header: str | bytes | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    check_sandbox_error(guarded.get("/_sandbox/health", headers=headers), 401)
    check_sandbox_error(guarded.post("/_sandbox/tenants", headers=headers, json={}), 401)


def test_admin_token_guard_admits(guarded: TestClient) -> None:
    admin = {"Authorization": "Bearer let-me-in-0123456789"}
    assert guarded.get("/_sandbox/health", headers=admin).status_code == 200
    document = guarded.get("/_sandbox/tenants/default", headers=admin).json()
    # The Graph surface is not behind the admin token: it has its own.
    response = guarded.get(
        f"/v23.0/{document['phone_number_id']}", headers={"Authorization": f"Bearer {document['access_token']}"}
    )
    assert response.status_code == 200


def test_lifecycles_are_read_off_the_registry(client: TestClient) -> None:
    from sandbox.domain.lifecycle import lifecycles

    data = client.get("/_sandbox/lifecycles").json()["data"]
    assert [item["name"] for item in data] == list(lifecycles())
    message = next(item for item in data if item["name"] == "message")
    assert message["attribute"] == "status"
    assert message["final"] == ["read", "failed"]
    assert {"trigger": "read", "from": ["sent", "delivered", "received"], "to": "read"} in message["transitions"]


def test_moving_a_message_by_hand_offers_the_triggers_of_its_lifecycle(client: TestClient, tenant: Tenant) -> None:
    unknown = client.post(f"/_sandbox/tenants/{tenant.id}/messages/wamid.x/teleport")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "action must be one of send, deliver, read, fail"
