"""Every code in `GraphErrorCode` is reachable through HTTP by a documented, deterministic recipe.

A code reported synchronously must come back as Meta's envelope with its HTTP status; a code Meta reports at
delivery time must come back as a 200 and then a `failed` status webhook with the code in `errors[]`. Codes
without a natural recipe (a limit, a magic value, a bad request) use one fault. The table of recipes is
docs/limits-and-faults.md §"Every error code"; `python tests/test_error_reachability.py` prints it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.domain.customer import MAGIC_FAIL_PREFIX, MAGIC_RECIPIENTS
from sandbox.domain.fault import default_mode
from sandbox.errors import ERROR_CODES_HREF, GraphErrorCode
from sandbox.testing import RecordingTransport

DOCS = Path(__file__).resolve().parent.parent / "docs" / "limits-and-faults.md"
FBTRACE = re.compile(r"^A[A-Za-z0-9_-]{22}$")
CUSTOMER = "16505551234"
NOT_ON_WHATSAPP = next(wa_id for wa_id, (_, fields) in MAGIC_RECIPIENTS.items() if fields == {"on_whatsapp": False})
# Graph-level errors with their own wording: no `(#code)` prefix, no `error_data`.
BARE = {GraphErrorCode.ACCESS_TOKEN_REQUIRED, GraphErrorCode.ACCESS_TOKEN_INVALID}

Mode = Literal["sync", "async"]


class Api:
    def __init__(self, client: TestClient, tenant: Tenant) -> None:
        self.client = client
        self.tenant = tenant
        self.phone = tenant.document()["phone_number_id"]
        self.auth = {"Authorization": f"Bearer {tenant.credentials.access_token}"}

    def send(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
        return self.client.post(
            f"/v23.0/{self.phone}/messages",
            json={"messaging_product": "whatsapp", **body},
            headers=self.auth if headers is None else headers,
        )

    def get(self, node: str) -> httpx.Response:
        return self.client.get(f"/v23.0/{node}", headers=self.auth)

    def control(self, method: str, path: str, body: Any = None) -> httpx.Response:
        response = self.client.request(method, f"/_sandbox/tenants/{self.tenant.id}{path}", json=body)
        assert response.status_code < 300, response.text
        return response


def template(to: str = CUSTOMER, **extra: Any) -> dict[str, Any]:
    return {"to": to, "type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}, **extra}}


def text(to: str = CUSTOMER, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"to": to, "type": "text", "text": {"body": "hello"} if body is None else body}


@dataclass(frozen=True, slots=True)
class Recipe:
    how: str
    run: Callable[[Api], httpx.Response]


def _repeat(times: int, call: Callable[[], httpx.Response]) -> httpx.Response:
    for _ in range(times - 1):
        assert call().status_code == 200
    return call()


def _app_limit(api: Api) -> httpx.Response:
    api.control("PATCH", "/policy", {"app_calls_per_hour": 1})
    return _repeat(2, lambda: api.get(api.phone))


def _waba_limit(api: Api) -> httpx.Response:
    api.control("PATCH", "/policy", {"active_waba_calls_per_hour": 1})
    return _repeat(2, lambda: api.get(api.tenant.waba_id))


def _throughput(api: Api) -> httpx.Response:
    return [api.send(template(f"+1650555{i:04d}")) for i in range(81)][-1]


def _upgrading(api: Api) -> httpx.Response:
    api.control("PUT", f"/phone_numbers/{api.phone}/throughput", {"level": "HIGH", "maintenance_seconds": 60})
    return api.send(template())


def _undownloadable(api: Api) -> httpx.Response:
    api.control("POST", "/inbound", {"from": CUSTOMER, "type": "text", "text": {"body": "hi"}})
    return api.send({"to": CUSTOMER, "type": "image", "image": {"link": "https://fail.sandbox.test/logo.png"}})


def _four_buttons(api: Api) -> httpx.Response:
    buttons = [{"type": "reply", "reply": {"id": str(i), "title": str(i)}} for i in range(4)]
    interactive = {"type": "button", "body": {"text": "Pick one"}, "action": {"buttons": buttons}}
    return api.send({"to": CUSTOMER, "type": "interactive", "interactive": interactive})


def _to_itself(api: Api) -> httpx.Response:
    phone = api.tenant.store.phone_numbers.get(api.phone)
    assert phone is not None
    return api.send(template("+" + phone.display_phone_number))


def _no_messaging_product(api: Api) -> httpx.Response:
    return api.client.post(f"/v23.0/{api.phone}/messages", json=text(), headers=api.auth)


def _unknown_template(api: Api) -> httpx.Response:
    body = {"name": "no_such_template", "language": {"code": "en_US"}}
    return api.send({"to": CUSTOMER, "type": "template", "template": body})


def _authentication_to_a_bsuid(api: Api) -> httpx.Response:
    body = {
        "name": "login_code",
        "language": "en_US",
        "category": "AUTHENTICATION",
        "components": [{"type": "BODY"}, {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]}],
    }
    created = api.client.post(f"/v23.0/{api.tenant.waba_id}/message_templates", json=body, headers=api.auth).json()
    api.control("POST", "/reviews", {"kind": "template", "target": created["id"], "decision": "APPROVED"})
    user_id = api.control("PUT", f"/customers/{CUSTOMER}", {}).json()["user_id"]
    code = [{"type": "text", "text": "123456"}]
    components = [
        {"type": "body", "parameters": code},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": code},
    ]
    template = {"name": "login_code", "language": {"code": "en_US"}, "components": components}
    return api.send({"recipient": user_id, "type": "template", "template": template})


def _extra_parameter(api: Api) -> httpx.Response:
    return api.send(template(components=[{"type": "body", "parameters": [{"type": "text", "text": "x"}]}]))


def _blocked(api: Api) -> httpx.Response:
    api.control("POST", "/inbound", {"from": CUSTOMER, "type": "text", "text": {"body": "hi"}})
    blocks = {"messaging_product": "whatsapp", "block_users": [{"user": CUSTOMER}]}
    assert api.client.post(f"/v23.0/{api.phone}/block_users", json=blocks, headers=api.auth).status_code == 200
    return api.send(text())


def _stale_cursor(api: Api) -> httpx.Response:
    path = f"/v23.0/{api.phone}/block_users"
    for customer in (CUSTOMER, "16505551235"):
        api.control("POST", "/inbound", {"from": customer, "type": "text", "text": {"body": "hi"}})
        blocks = {"messaging_product": "whatsapp", "block_users": [{"user": customer}]}
        api.client.post(path, json=blocks, headers=api.auth)
        if customer == CUSTOMER:
            cursor = api.client.get(path, headers=api.auth).json()["paging"]["cursors"]["after"]
    return api.client.get(path, params={"after": cursor}, headers=api.auth)


def _fault(code: GraphErrorCode) -> Recipe:
    return Recipe(f'fault `{{"error": {{"code": {int(code)}}}}}`, then send', lambda api: _with_fault(api, code))


def _with_fault(api: Api, code: GraphErrorCode) -> httpx.Response:
    api.control("POST", "/faults", {"match": {"path": "/*/messages"}, "error": {"code": int(code)}})
    return api.send(template())


def _magic_failure(code: GraphErrorCode) -> Recipe:
    recipient = f"{MAGIC_FAIL_PREFIX}{int(code)}"
    return Recipe(f"magic recipient: send to `{recipient}`", lambda api: api.send(template(recipient)))


G = GraphErrorCode
DELIVERY_TIME_MAGIC = (
    G.EXPERIMENT, G.BUSINESS_PAYMENT_ISSUE, G.SPAM_RATE_LIMIT_HIT, G.HEALTHY_ECOSYSTEM,
    G.MARKETING_OPT_OUT,
)  # fmt: skip
RECIPES: dict[GraphErrorCode, Recipe] = {
    G.TOO_MANY_CALLS: Recipe(
        'limit: policy `{"app_calls_per_hour": 1}`, then two management calls (`GET /{phone-number-id}`)', _app_limit
    ),
    G.WABA_RATE_LIMIT: Recipe(
        'limit: policy `{"active_waba_calls_per_hour": 1}`, then `GET /{waba-id}` twice', _waba_limit
    ),
    G.RATE_LIMIT_HIT: Recipe("limit: 81 sends from one STANDARD number in one second of tenant time", _throughput),
    G.PAIR_RATE_LIMIT_HIT: Recipe(
        "limit: 46 sends to one recipient within 6 s of tenant time",
        lambda api: _repeat(46, lambda: api.send(template())),
    ),
    G.ACCOUNT_IN_MAINTENANCE: Recipe(
        'limit: `PUT .../phone_numbers/{id}/throughput {"level": "HIGH", "maintenance_seconds": 60}`, then send',
        _upgrading,
    ),
    G.INVALID_PARAMETER: Recipe("request: a send without `messaging_product`", _no_messaging_product),
    G.ACCESS_TOKEN_REQUIRED: Recipe("request: a Graph call without a token", lambda api: api.send(text(), headers={})),
    G.ACCESS_TOKEN_INVALID: Recipe(
        "request: a Graph call with an unknown token",
        lambda api: api.send(text(), headers={"Authorization": "Bearer x"}),
    ),
    G.REQUIRED_PARAMETER_MISSING: Recipe("request: a text without `text.body`", lambda api: api.send(text(body={}))),
    G.PARAMETER_VALUE_INVALID: Recipe("request: reply buttons with four buttons", _four_buttons),
    G.UNSUPPORTED_MESSAGE_TYPE: Recipe(
        'request: `"type": "poll"`', lambda api: api.send({"to": CUSTOMER, "type": "poll", "poll": {}})
    ),
    G.RECIPIENT_CANNOT_BE_SENDER: Recipe("request: send to the business number itself", _to_itself),
    G.TEMPLATE_DOES_NOT_EXIST: Recipe("request: a template name the WABA does not have", _unknown_template),
    G.BSUID_RECIPIENT_NOT_SUPPORTED: Recipe(
        "request: an approved authentication template sent by `recipient` (the customer's BSUID)",
        _authentication_to_a_bsuid,
    ),
    G.BUSINESS_BLOCKED_USER: Recipe(
        "request: block a customer who wrote (`POST .../block_users`), then send", _blocked
    ),
    G.BLOCKLIST_CONCURRENT_UPDATE: Recipe(
        "request: page `GET .../block_users` with a cursor cut before another block", _stale_cursor
    ),
    G.TEMPLATE_PARAM_COUNT_MISMATCH: Recipe("request: `hello_world` with a body parameter", _extra_parameter),
    G.MESSAGE_UNDELIVERABLE: Recipe(
        f"magic recipient: send to `{NOT_ON_WHATSAPP}` (not on WhatsApp)",
        lambda api: api.send(template(NOT_ON_WHATSAPP)),
    ),
    G.RE_ENGAGEMENT_MESSAGE: Recipe(
        "request: a free-form text to a customer who has not written in 24 hours", lambda api: api.send(text())
    ),
    G.MEDIA_UPLOAD_ERROR: Recipe(
        "magic media link: an image `link` on `https://fail.sandbox.test/...`", _undownloadable
    ),
    **{code: _magic_failure(code) for code in DELIVERY_TIME_MAGIC},
}


def recipe_for(code: GraphErrorCode) -> Recipe:
    return RECIPES.get(code) or _fault(code)


def mode_of(code: GraphErrorCode) -> Mode:
    return default_mode(code)


def recipe_table() -> str:
    rows = ["| code | title | HTTP | reported | recipe |", "| --- | --- | --- | --- | --- |"]
    for code in GraphErrorCode:
        mode = "failed status webhook" if mode_of(code) == "async" else "sync"
        http = "200, then webhook" if mode_of(code) == "async" else str(code.http_status)
        rows.append(f"| {int(code)} | {code.title} | {http} | {mode} | {recipe_for(code).how} |")
    return "\n".join(rows)


def settle(client: TestClient, tenant: Tenant) -> None:
    client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 1})

    async def until_idle() -> None:
        for _ in range(100_000):
            await asyncio.sleep(0)
            if tenant.outbox.idle():
                return
        raise RuntimeError("the webhook outbox did not become idle")

    assert client.portal is not None
    client.portal.call(until_idle)


def failed_errors(transport: RecordingTransport, wamid: str) -> list[dict[str, Any]]:
    return [
        error
        for payload in transport.payloads()
        for status in payload["entry"][0]["changes"][0]["value"].get("statuses", [])
        if status["id"] == wamid and status["status"] == "failed"
        for error in status["errors"]
    ]


@pytest.mark.parametrize("code", list(GraphErrorCode), ids=lambda code: f"{int(code)}-{code.name}")
def test_every_error_code_is_reachable(
    code: GraphErrorCode, client: TestClient, tenant: Tenant, transport: RecordingTransport
) -> None:
    api = Api(client, tenant)
    response = recipe_for(code).run(api)
    if mode_of(code) == "sync":
        assert response.status_code == code.http_status, response.text
        error = response.json()["error"]
        assert set(response.json()) == {"error"}
        assert error["code"] == int(code)
        assert error["type"] in ("OAuthException", "GraphMethodException")
        assert FBTRACE.match(error["fbtrace_id"]) and response.headers["x-fb-trace-id"] == error["fbtrace_id"]
        if code in BARE:
            assert error["message"] == code.title and "error_data" not in error
        elif code not in (G.INVALID_PARAMETER, G.TOO_MANY_CALLS):
            assert error["message"] == code.message
            assert error["error_data"]["messaging_product"] == "whatsapp"
            assert isinstance(error["error_data"]["details"], str) and error["error_data"]["details"]
        return
    assert response.status_code == 200, response.text
    wamid = response.json()["messages"][0]["id"]
    settle(client, tenant)
    [failure] = failed_errors(transport, wamid)
    assert failure["code"] == int(code)
    assert failure["title"] == failure["message"] == code.title
    assert failure["href"] == ERROR_CODES_HREF
    assert isinstance(failure["error_data"]["details"], str) and failure["error_data"]["details"]


def test_the_recipe_table_is_documented() -> None:
    assert recipe_table() in DOCS.read_text(encoding="utf-8"), (
        "docs/limits-and-faults.md is out of date: paste the output of `python tests/test_error_reachability.py`"
    )


if __name__ == "__main__":
    import sys

    sys.stdout.write(recipe_table() + "\n")
