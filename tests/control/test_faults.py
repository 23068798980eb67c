"""Fault injection, limits and magic media through HTTP: `/_sandbox/tenants/{tenant}/faults`, `.../limits`,
`.../phone_numbers/{id}/throughput`, `GET /_sandbox/magic` (docs/limits-and-faults.md)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from sandbox.api import faults as api_faults
from sandbox.api.faults import ConnectionDropped
from sandbox.app import create_app
from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import RecordingTransport, running_server

FBTRACE = re.compile(r"^A[A-Za-z0-9_-]{22}$")
CUSTOMER = "16505551234"


def text_to(to: str = CUSTOMER) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "hello"}}


def hello_world(to: str = CUSTOMER) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {"name": "hello_world", "language": {"code": "en_US"}},
    }


def graph_error(response: httpx.Response, code: int, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert error["type"] == "OAuthException"
    assert FBTRACE.match(error["fbtrace_id"])
    assert response.headers["x-fb-trace-id"] == error["fbtrace_id"]
    return dict(error)


def sandbox_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == "SandboxError" and error["code"] == status
    return str(error["message"])


class Api:
    """The tenant's Graph and control surfaces over one TestClient."""

    def __init__(self, client: TestClient, tenant: Tenant) -> None:
        self.client = client
        self.tenant = tenant
        self.phone = tenant.document()["phone_number_id"]
        self.auth = {"Authorization": f"Bearer {tenant.credentials.access_token}"}

    def send(self, body: dict[str, Any], phone: str | None = None) -> httpx.Response:
        return self.client.post(f"/v23.0/{phone or self.phone}/messages", json=body, headers=self.auth)

    def get(self, path: str) -> httpx.Response:
        return self.client.get(f"/v23.0/{path}", headers=self.auth)

    def control(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return self.client.request(method, f"/_sandbox/tenants/{self.tenant.id}{path}", json=body)

    def fault(self, **body: Any) -> dict[str, Any]:
        response = self.control("POST", "/faults", body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def customer_writes(self, wa_id: str = CUSTOMER) -> None:
        response = self.control("POST", "/inbound", {"from": wa_id, "type": "text", "text": {"body": "hi"}})
        assert response.status_code == 200, response.text

    def failed_errors(self, transport: RecordingTransport, wamid: str) -> list[dict[str, Any]]:
        for payload in transport.payloads():
            for status in payload["entry"][0]["changes"][0]["value"].get("statuses", []):
                if status["id"] == wamid and status["status"] == "failed":
                    return list(status["errors"])
        return []


@pytest.fixture
def api(client: TestClient, tenant: Tenant) -> Api:
    return Api(client, tenant)


def settle(client: TestClient, tenant: Tenant) -> None:
    """Let due statuses fire and the outbox workers (on the TestClient's loop) deliver them; no sleeping."""
    client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 1})
    outbox = tenant.outbox

    async def until_idle() -> None:
        for _ in range(100_000):
            await asyncio.sleep(0)
            if outbox.idle():
                return
        raise RuntimeError("the webhook outbox did not become idle")

    assert client.portal is not None
    client.portal.call(until_idle)


# --- the resource -----------------------------------------------------------------------------------------------


def test_faults_are_created_listed_read_and_removed(api: Api) -> None:
    created = api.fault(match={"method": "post", "path": "/v23.0/*/messages"}, error={"code": 130429}, times=2)
    assert created["id"] == "fault-1"
    assert created["match"] == {"method": "POST", "path": "/*/messages"}
    assert created["error"] == {"code": 130429, "mode": "sync"}
    assert (created["times"], created["remaining"], created["hits"], created["probability"]) == (2, 2, 0, 1.0)
    second = api.fault(error={"code": 131026}, latency_ms={"distribution": "uniform", "min": 10, "max": 20})
    assert second["error"] == {"code": 131026, "mode": "async"}
    assert second["latency_ms"] == {"distribution": "uniform", "min": 10.0, "max": 20.0}
    listed = api.control("GET", "/faults").json()["data"]
    assert [fault["id"] for fault in listed] == ["fault-1", "fault-2"]
    assert api.control("GET", "/faults/fault-2").json()["id"] == "fault-2"
    assert api.control("DELETE", "/faults/fault-1").json() == {"success": True}
    sandbox_error(api.control("DELETE", "/faults/fault-1"), 404)
    sandbox_error(api.control("GET", "/faults/fault-1"), 404)
    assert api.control("DELETE", "/faults").json() == {"success": True, "removed": 1}
    assert api.control("GET", "/faults").json() == {"data": []}


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({}, "needs an effect"),
        ({"error": {"code": 999999}}, "error.code"),
        ({"error": "x"}, "error must be"),
        ({"error": {"code": 131000, "mode": "later"}}, "mode"),
        ({"http_status": 200}, "http_status"),
        ({"http_status": 503, "drop_connection": True}, "dropped connection"),
        ({"latency_ms": -5}, "latency_ms"),
        ({"latency_ms": {"distribution": "zipf"}}, "distribution"),
        ({"latency_ms": {"distribution": "uniform", "min": 9, "max": 1}}, "min"),
        ({"latency_ms": {"distribution": "uniform", "min": 1, "max": 2, "mean": "x"}}, "latency_ms.mean"),
        ({"error": {"code": 131000}, "times": 0}, "times"),
        ({"error": {"code": 131000}, "probability": 1.5}, "probability"),
        ({"error": {"code": 131000}, "match": {"colour": "red"}}, "unknown match"),
        ({"error": {"code": 131000}, "match": {"path_regex": "("}}, "path_regex"),
        ({"error": {"code": 131000}, "match": {"recipient": "12"}}, "recipient"),
        ({"error": {"code": 131000}, "headers": {"Bad Header": "x"}}, "header"),
        ({"mode": "async", "latency_ms": 5}, "async"),
        ({"error": {"code": 131000}, "when": "now"}, "unknown field"),
    ],
)
def test_bad_faults_are_refused_with_a_sandbox_error(api: Api, body: dict[str, Any], complaint: str) -> None:
    assert complaint in sandbox_error(api.control("POST", "/faults", body), 400)
    assert api.control("GET", "/faults").json() == {"data": []}


def test_an_unknown_tenant_is_404(client: TestClient) -> None:
    sandbox_error(client.post("/_sandbox/tenants/nobody/faults", json={"error": {"code": 1}}), 404)


# --- sync and async answers -------------------------------------------------------------------------------------


def test_a_throttling_fault_answers_metas_envelope_times_then_lets_calls_through(api: Api) -> None:
    api.fault(match={"method": "POST", "path": "/*/messages"}, error={"code": 130429}, times=2)
    for _ in range(2):
        error = graph_error(api.send(hello_world()), 130429, 400)
        assert error["message"] == "(#130429) Rate limit hit"
        assert error["error_subcode"] == 2494055
        assert error["error_data"] == {
            "messaging_product": "whatsapp",
            "details": "Cloud API message throughput has been reached.",
        }
    assert api.send(hello_world()).status_code == 200
    fault = api.control("GET", "/faults/fault-1").json()
    assert (fault["hits"], fault["remaining"]) == (2, 0)
    journal = api.control("GET", "/requests?limit=3").json()["data"]
    assert [entry.get("fault") for entry in journal] == [None, "fault-1", "fault-1"]


@pytest.mark.parametrize(("code", "status"), [(131056, 400), (80007, 400), (131000, 500), (133004, 503)])
def test_each_code_answers_with_its_http_status(api: Api, code: int, status: int) -> None:
    api.fault(error={"code": code}, times=1)
    error = graph_error(api.send(hello_world()), code, status)
    assert error["message"].startswith(f"(#{code}) ")


def test_code_4_is_graphs_bare_throttling_error(api: Api, tenant: Tenant) -> None:
    api.fault(match={"path": "/*"}, error={"code": 4})
    response = api.get(api.phone)
    assert json.loads(response.headers["x-app-usage"])["call_count"] == 100
    error = graph_error(response, 4, 400)
    assert error == {
        "message": "(#4) Application request limit reached",
        "type": "OAuthException",
        "code": 4,
        "is_transient": True,
        "fbtrace_id": error["fbtrace_id"],
    }


def test_a_delivery_time_code_accepts_the_send_and_fails_it_by_webhook(
    api: Api, client: TestClient, tenant: Tenant, transport: RecordingTransport
) -> None:
    api.fault(match={"recipient": "+1 (650) 555-1234", "type": "template"}, error={"code": 131048})
    response = api.send(hello_world())
    assert response.status_code == 200
    wamid = response.json()["messages"][0]["id"]
    settle(client, tenant)
    assert api.failed_errors(transport, wamid) == [
        {
            "code": 131048,
            "title": "Spam rate limit hit",
            "message": "Spam rate limit hit",
            "error_data": {
                "details": (
                    "Message failed to send because there are restrictions on how many messages can be sent from this "
                    "phone number. This may be because too many previous messages were blocked or flagged as spam."
                )
            },
            "href": "/documentation/business-messaging/whatsapp/support/error-codes",
        }
    ]


def test_mode_overrides_how_a_code_is_reported(
    api: Api, client: TestClient, tenant: Tenant, transport: RecordingTransport
) -> None:
    api.fault(error={"code": 131026, "mode": "sync"}, times=1)
    graph_error(api.send(hello_world()), 131026, 400)
    api.fault(error={"code": 131000, "details": "boom"}, mode="async", times=1)
    response = api.send(hello_world())
    assert response.status_code == 200
    settle(client, tenant)
    errors = api.failed_errors(transport, response.json()["messages"][0]["id"])
    assert errors[0]["code"] == 131000 and errors[0]["error_data"] == {"details": "boom"}


def test_an_async_fault_waits_for_a_valid_send(api: Api) -> None:
    api.fault(error={"code": 131049}, times=1)
    graph_error(api.send({**text_to(), "text": {}}), 131008, 400)
    assert api.control("GET", "/faults/fault-1").json()["hits"] == 0
    assert api.send(hello_world()).status_code == 200
    assert api.control("GET", "/faults/fault-1").json()["hits"] == 1


def test_an_async_fault_applies_to_sends_only_unless_made_sync(api: Api) -> None:
    api.fault(error={"code": 131026})
    assert api.get(api.phone).status_code == 200
    api.fault(match={"method": "GET"}, error={"code": 131026, "mode": "sync"})
    graph_error(api.get(api.phone), 131026, 400)


def test_http_status_alone_answers_a_fitting_graph_error(api: Api) -> None:
    api.fault(http_status=503, times=1)
    error = graph_error(api.send(hello_world()), 2, 503)
    assert error["is_transient"] is True
    api.fault(error={"code": 131000}, http_status=502, headers={"Retry-After": "7"}, times=1)
    response = api.send(hello_world())
    graph_error(response, 131000, 502)
    assert response.headers["retry-after"] == "7"


def test_faults_match_only_their_calls(api: Api, tenant: Tenant) -> None:
    api.customer_writes()
    api.fault(match={"recipient": "16505550000"}, error={"code": 131000})
    api.fault(match={"type": "image"}, error={"code": 131000})
    api.fault(match={"template": "order_update"}, error={"code": 131000})
    api.fault(match={"phone_number_id": "999"}, error={"code": 131000})
    api.fault(match={"method": "DELETE"}, error={"code": 131000})
    api.fault(match={"path_regex": r"/message_templates$"}, error={"code": 131000})
    assert api.send(text_to()).status_code == 200
    assert api.send(hello_world()).status_code == 200
    assert api.get(api.phone).status_code == 200
    graph_error(api.get(f"{tenant.waba_id}/message_templates"), 131000, 500)
    graph_error(api.send(text_to("+1 650 555 0000")), 131000, 500)


# --- latency and dropped connections ----------------------------------------------------------------------------


def test_latency_is_drawn_from_the_faults_generator(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[float] = []

    async def record(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(api_faults, "pause", record)
    api.fault(latency_ms=250, times=1)
    api.fault(latency_ms={"distribution": "uniform", "min": 100, "max": 200}, times=3)
    api.fault(latency_ms={"distribution": "exponential", "mean": 50}, times=1)
    for _ in range(5):
        assert api.send(hello_world()).status_code == 200
    assert waited[0] == 0.25
    assert all(0.1 <= seconds <= 0.2 for seconds in waited[1:4])
    assert waited[4] >= 0


def test_latency_of_one_tenant_does_not_hold_up_another() -> None:
    sandbox = Sandbox(Settings(seed=3))
    slow = create_tenant(sandbox, CreateTenant(name="slow"))
    fast = create_tenant(sandbox, CreateTenant(name="fast"))
    app = create_app(sandbox, transport=RecordingTransport())
    finished: list[str] = []

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as http:
            created = await http.post("/_sandbox/tenants/slow/faults", json={"latency_ms": 1500})
            assert created.status_code == 201

            async def call(tenant: Tenant) -> None:
                token = {"Authorization": f"Bearer {tenant.credentials.access_token}"}
                response = await http.get(f"/v23.0/{tenant.waba_id}", headers=token)
                assert response.status_code == 200
                finished.append(tenant.id)

            await asyncio.gather(call(slow), call(fast))

    asyncio.run(scenario())
    assert finished == ["fast", "slow"]


def test_a_dropped_connection_raises_in_process(api: Api) -> None:
    api.fault(drop_connection=True, times=1)
    with pytest.raises(ConnectionDropped):
        api.send(hello_world())
    assert api.control("GET", "/requests?limit=1").json()["data"][0]["fault"] == "fault-1"


@pytest.mark.server
def test_a_dropped_connection_closes_the_socket_without_an_answer() -> None:
    sandbox = Sandbox(Settings(seed=5))
    tenant = create_tenant(sandbox, CreateTenant(name="t1"))
    with running_server(sandbox) as url, httpx.Client(base_url=url) as http:
        http.post(
            "/_sandbox/tenants/t1/faults", json={"match": {"path": "/*/messages"}, "drop_connection": True, "times": 1}
        )
        token = {"Authorization": f"Bearer {tenant.credentials.access_token}"}
        phone = tenant.document()["phone_number_id"]
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            http.post(f"/v23.0/{phone}/messages", json=hello_world(), headers=token)
        assert http.post(f"/v23.0/{phone}/messages", json=hello_world(), headers=token).status_code == 200


# --- probability and seeds --------------------------------------------------------------------------------------


def outcomes(seed: int, calls: int = 40) -> list[int]:
    sandbox = Sandbox(Settings(seed=1))
    tenant = create_tenant(
        sandbox,
        CreateTenant(name="t", seed=seed, clock=ConfigureClock(mode="frozen")),
        start=datetime(2026, 1, 5, 9, tzinfo=UTC),
    )
    with TestClient(create_app(sandbox, transport=RecordingTransport())) as client:
        api = Api(client, tenant)
        api.fault(error={"code": 131000}, probability=0.3)
        api.fault(error={"code": 130429}, probability=0.5, times=5)
        return [api.send(hello_world(f"+1650555{i:04d}")).status_code for i in range(calls)]


def test_the_same_seed_gives_the_same_failures() -> None:
    first, again, other = outcomes(11), outcomes(11), outcomes(12)
    assert first == again
    assert first != other
    assert set(first) == {200, 400, 500}
    assert first.count(400) == 5


def test_reset_replays_the_failure_sequence(api: Api, tenant: Tenant, sandbox: Sandbox) -> None:
    def run(target: Api) -> list[int]:
        target.fault(error={"code": 131000}, probability=0.5)
        return [target.send(hello_world(f"+1650555{i:04d}")).status_code for i in range(20)]

    before = run(api)
    api.client.post(f"/_sandbox/tenants/{tenant.id}/reset")
    after = run(Api(api.client, sandbox.tenants[tenant.id]))
    assert before == after


# --- limits, throughput and magic media through HTTP ------------------------------------------------------------


def test_management_calls_carry_usage_headers_and_sends_do_not(api: Api, tenant: Tenant) -> None:
    response = api.get(tenant.waba_id)
    assert json.loads(response.headers["x-app-usage"]) == {"call_count": 0, "total_cputime": 0, "total_time": 0}
    usage = json.loads(response.headers["x-business-use-case-usage"])
    assert usage[tenant.waba_id][0]["type"] == "whatsapp_business_management"
    assert "x-business-use-case-usage" not in api.get(api.phone).headers
    sent = api.send(hello_world())
    assert "x-app-usage" not in sent.headers


def test_waba_and_app_limits_answer_80007_and_4_over_http(api: Api, tenant: Tenant) -> None:
    patched = api.control("PATCH", "/policy", {"active_waba_calls_per_hour": 1, "app_calls_per_hour": 3})
    assert patched.status_code == 200
    assert api.get(f"{tenant.waba_id}/phone_numbers").status_code == 200
    response = api.get(f"{tenant.waba_id}/message_templates")
    error = graph_error(response, 80007, 400)
    assert error["message"] == "(#80007) Rate limit issues"
    usage = json.loads(response.headers["x-business-use-case-usage"])[tenant.waba_id][0]
    assert (usage["call_count"], usage["estimated_time_to_regain_access"]) == (100, 60)
    assert api.get(api.phone).status_code == 200
    assert api.get(api.phone).status_code == 200
    graph_error(api.get(api.phone), 4, 400)
    assert api.send(hello_world()).status_code == 200  # /messages is not a management call
    api.control("POST", "/clock/advance", {"seconds": 3600})
    assert api.get(tenant.waba_id).status_code == 200


def test_throughput_level_is_set_on_the_control_plane_and_shows_on_graph(api: Api) -> None:
    path = f"/phone_numbers/{api.phone}/throughput"
    assert api.control("GET", path).json()["messages_per_second"] == 80
    changed = api.control("PUT", path, {"level": "HIGH"}).json()
    assert changed["throughput"] == {"level": "HIGH"} and changed["messages_per_second"] == 1000
    assert api.get(f"{api.phone}?fields=throughput").json()["throughput"] == {"level": "HIGH"}
    sandbox_error(api.control("PUT", path, {"level": "WARP"}), 400)
    sandbox_error(api.control("PUT", "/phone_numbers/123/throughput", {"level": "HIGH"}), 404)
    limits = api.control("GET", "/limits").json()
    assert limits["phone_numbers"][0]["messages_per_second"] == 1000


def test_throughput_limit_over_http(api: Api) -> None:
    api.control("PATCH", "/policy", {"throughput_mps": {"STANDARD": 2}})
    assert [api.send(hello_world(f"+1650555000{i}")).status_code for i in range(3)] == [200, 200, 400]


def test_magic_media_links_are_listed_and_fail_with_131053(
    api: Api, client: TestClient, tenant: Tenant, transport: RecordingTransport
) -> None:
    rows = client.get("/_sandbox/magic").json()["data"]
    assert {row["kind"] for row in rows} == {"recipient", "media_link"}
    assert any(row.get("link", "").startswith("https://fail.sandbox.test/") for row in rows)
    api.customer_writes()
    image = {**text_to(), "type": "image", "image": {"link": "https://fail.sandbox.test/403/logo.png"}}
    del image["text"]
    response = api.send(image)
    assert response.status_code == 200
    settle(client, tenant)
    errors = api.failed_errors(transport, response.json()["messages"][0]["id"])
    assert errors[0]["code"] == 131053
    assert errors[0]["error_data"]["details"] == (
        "Downloading media from weblink failed with http code 403, status message Forbidden"
    )


def test_other_media_links_are_delivered(
    api: Api, client: TestClient, tenant: Tenant, transport: RecordingTransport
) -> None:
    api.customer_writes()
    image = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "image",
        "image": {"link": "https://cdn.example.com/fail.sandbox.test.png"},
    }
    response = api.send(image)
    settle(client, tenant)
    assert api.failed_errors(transport, response.json()["messages"][0]["id"]) == []


def test_an_injected_80007_reports_the_waba_counter_full(api: Api, tenant: Tenant) -> None:
    api.fault(match={"path": "/*/message_templates"}, error={"code": 80007}, times=1)
    response = api.get(f"{tenant.waba_id}/message_templates")
    graph_error(response, 80007, 400)
    usage = json.loads(response.headers["x-business-use-case-usage"])[tenant.waba_id][0]
    assert (usage["call_count"], usage["estimated_time_to_regain_access"]) == (100, 1)
    assert api.get(f"{tenant.waba_id}/message_templates").status_code == 200
