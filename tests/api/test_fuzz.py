"""Arbitrary requests at every Graph and control-plane endpoint: never a 500 or a traceback, always the right
envelope (Graph's for Graph paths, SandboxError for `/_sandbox/`), and the tenant keeps working afterwards.

Routes are read from the route tables, so endpoints added later are fuzzed too. Bodies are arbitrary bytes,
arbitrary JSON (with keys biased towards the names our handlers read, to get past the first check), form and
multipart bodies, and valid message bodies with one part mutated.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from starlette.routing import Route
from starlette.testclient import TestClient

from sandbox.api import ROUTES
from sandbox.context import Tenant
from sandbox.control import control_routes
from sandbox.testing import check_graph_error, check_sandbox_error

FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"]
KEYS = [
    "messaging_product", "recipient_type", "to", "type", "text", "body", "preview_url", "image", "audio", "video",
    "document", "sticker", "link", "id", "caption", "filename", "location", "latitude", "longitude", "contacts",
    "name", "formatted_name", "reaction", "message_id", "emoji", "template", "language", "code", "policy",
    "components", "parameters", "sub_type", "index", "interactive", "header", "footer", "action", "buttons", "reply",
    "title", "sections", "rows", "button", "display_text", "url", "flow_message_version", "flow_id", "flow_cta",
    "status", "typing_indicator", "context", "biz_opaque_callback_data", "from", "profile", "phone_number_id",
    "seconds", "mode", "rate", "now", "verify_token", "verify", "progression", "reads", "delivery", "on_whatsapp",
    "fail_code", "blocked_business", "seed", "webhook", "clock", "expires_in", "details", "fields", "limit",
    "override_callback_uri", "level", "sent_delay", "read_probability", "journal_requests",
]  # fmt: skip
CONTENT_TYPES = [
    None, "application/json", "application/json; charset=utf-8", "text/json", "application/x-www-form-urlencoded",
    "multipart/form-data", "multipart/form-data; boundary=x", "text/plain", "application/xml", "",
    "application/octet-stream", "image/png", "json", "multipart/mixed; boundary=zzz",
]  # fmt: skip
# Control endpoints that end the tenant on purpose; they are tested in tests/control, not thrown at here.
DESTRUCTIVE = {("DELETE", "/_sandbox/tenants/{tenant}"), ("POST", "/_sandbox/tenants/{tenant}/reset"),
               ("POST", "/_sandbox/reset")}  # fmt: skip
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["whatsapp", "read"])
)
json_keys = st.sampled_from(KEYS) | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(json_keys, children, max_size=6),
    max_leaves=25,
)


def valid_messages(to: str) -> list[dict[str, Any]]:
    envelope = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
    return [
        {**envelope, "type": "text", "text": {"body": "hello", "preview_url": False}},
        {**envelope, "type": "image", "image": {"link": "https://example.com/a.png", "caption": "c"}},
        {**envelope, "type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}},
        {**envelope, "type": "location", "location": {"latitude": 1.5, "longitude": 2.5, "name": "n"}},
        {**envelope, "type": "contacts", "contacts": [{"name": {"formatted_name": "A B"}}]},
        {**envelope, "type": "reaction", "reaction": {"message_id": "wamid.x", "emoji": "👍"}},
        {**envelope, "type": "interactive", "interactive": {
            "type": "button", "body": {"text": "b"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "1", "title": "One"}}]},
        }},
        {**envelope, "type": "interactive", "interactive": {
            "type": "list", "body": {"text": "b"},
            "action": {"button": "Pick", "sections": [{"title": "S", "rows": [{"id": "r", "title": "R"}]}]},
        }},
        {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.x",
         "typing_indicator": {"type": "text"}},
    ]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    """`body` with one value somewhere inside replaced by arbitrary JSON, or one key removed."""
    body = copy.deepcopy(body)
    containers: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict | list) and node:
            containers.append(node)
            for child in node.values() if isinstance(node, dict) else node:
                walk(child)

    walk(body)
    target = draw(st.sampled_from(containers))
    key = draw(st.sampled_from(list(target) if isinstance(target, dict) else list(range(len(target)))))
    if draw(st.booleans()) and isinstance(target, dict):
        del target[key]
    else:
        target[key] = draw(json_values)
    return body


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for `client.request`: a body of some kind and a content type that may or may not fit."""
    kind = draw(st.sampled_from(["none", "json", "raw", "form", "multipart"]))
    headers: dict[str, str] = {}
    content_type = draw(st.sampled_from(CONTENT_TYPES) | HEADER_TEXT)
    kwargs: dict[str, Any] = {}
    if kind == "json":
        kwargs["json"] = draw(json_values)
    elif kind == "raw":
        kwargs["content"] = draw(st.binary(max_size=200) | json_values.map(lambda v: repr(v).encode()))
    elif kind == "form":
        kwargs["data"] = draw(st.dictionaries(json_keys, st.text(max_size=30), max_size=5))
    elif kind == "multipart":
        kwargs["data"] = draw(
            st.dictionaries(st.sampled_from(["messaging_product", "type", "x"]), st.text(max_size=20))
        )
        kwargs["files"] = {
            draw(st.sampled_from(["file", "other"])): (
                draw(st.text(max_size=20)),
                draw(st.binary(max_size=100)),
                draw(st.sampled_from(["image/png", "application/octet-stream", "text/plain", "x/y", ""])),
            )
        }
        content_type = None
    if content_type is not None and kind in ("json", "raw"):
        headers["Content-Type"] = content_type
    kwargs["headers"] = headers
    return kwargs


def expect_control(url: httpx.URL) -> bool:
    return unquote(url.raw_path.decode("ascii").split("?")[0]).startswith("/_sandbox/")


def check(response: httpx.Response, caplog: pytest.LogCaptureFixture) -> None:
    """Never a 5xx or a logged traceback; an error is in the envelope the path's surface uses."""
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    caplog.clear()
    assert not errors, [record.getMessage() for record in errors]
    assert response.status_code < 500, (response.request.method, response.request.url, response.text)
    if response.request.method == "HEAD":
        return
    path = unquote(response.request.url.path)
    if path == "/whatsapp_business/attachments/" and response.request.method == "GET":
        assert response.status_code in (200, 401, 404)
        return
    if expect_control(response.request.url):
        if response.status_code >= 400:
            check_sandbox_error(response, response.status_code)
        elif not response.headers["content-type"].startswith(("text/html", "text/css", "text/javascript")):
            response.json()  # all but the index's page and the description's viewer (sandbox/control/index.py)
        return
    if response.status_code >= 400:
        error = response.json().get("error", {})
        check_graph_error(response, error.get("code", -1), response.status_code)
    else:
        response.json()


class Target:
    """A tenant's ids, to fill in route templates, and a liveness probe."""

    def __init__(self, client: TestClient, tenant: Tenant) -> None:
        self.client = client
        self.tenant = tenant
        document = tenant.document()
        self.auth = {"Authorization": f"Bearer {tenant.credentials.access_token}"}
        uploaded = client.post(
            f"/v23.0/{document['phone_number_id']}/media",
            headers=self.auth,
            data={"messaging_product": "whatsapp"},
            files={"file": ("a.png", b"\x89PNG\r\n\x1a\n", "image/png")},
        )
        assert uploaded.status_code == 200, uploaded.text
        inbound = client.post(
            f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": "16505551234", "text": {"body": "x"}}
        )
        self.nodes = {
            "phone_number": document["phone_number_id"],
            "waba": tenant.waba_id,
            "business": tenant.business_id,
            "template": next(iter(tenant.store.templates)).id,
            "media": uploaded.json()["id"],
        }
        self.params = {
            "tenant": tenant.id,
            "wa_id": "16505551234",
            "wamid": inbound.json()["message"]["id"],
            "phone_number_id": document["phone_number_id"],
            "action": "read",
            "delivery_id": "whd_1",
            "fault_id": "f1",
        }
        self.policy = client.get(f"/_sandbox/tenants/{tenant.id}/policy").json()

    def alive(self) -> None:
        client, tenant = self.client, self.tenant
        client.delete(f"/_sandbox/tenants/{tenant.id}/faults")
        assert client.get(f"/_sandbox/tenants/{tenant.id}").status_code == 200
        response = client.get(f"/v23.0/{self.nodes['phone_number']}", headers=self.auth)
        assert response.status_code == 200, response.text

    def sends(self) -> None:
        """After the run: with the policy and clock put right, a template still goes out."""
        client, tenant = self.client, self.tenant
        assert client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json=self.policy).status_code == 200
        client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 7200})
        client.put(f"/_sandbox/tenants/{tenant.id}/customers/447700900999", json={"on_whatsapp": True})
        response = client.post(
            f"/v23.0/{self.nodes['phone_number']}/messages",
            headers=self.auth,
            json=valid_messages("447700900999")[2],
        )
        assert response.status_code == 200, response.text
        assert response.json()["messages"][0]["id"].startswith("wamid.")


@pytest.fixture
def target(client: TestClient, tenant: Tenant) -> Target:
    return Target(client, tenant)


GRAPH_ROUTES = sorted({(route.kind, route.edge, route.method) for route in ROUTES}, key=str)
CONTROL_ROUTES = sorted(
    {
        (method, route.path)
        for route in control_routes()
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD" and (method, route.path) not in DESTRUCTIVE
    }
)


@st.composite
def auth_variants(draw: st.DrawFn, token: str) -> tuple[dict[str, str], dict[str, str]]:
    choice = draw(st.sampled_from(["bearer", "bearer", "query", "none", "garbage", "scheme"]))
    if choice == "bearer":
        return {"Authorization": f"Bearer {token}"}, {}
    if choice == "query":
        return {}, {"access_token": token}
    if choice == "garbage":
        return {"Authorization": "Bearer " + draw(HEADER_TEXT)}, {}
    if choice == "scheme":
        return {"Authorization": draw(HEADER_TEXT)}, {}
    return {}, {}


@FUZZ
@given(data=st.data())
def test_graph_endpoints(target: Target, caplog: pytest.LogCaptureFixture, data: st.DataObject) -> None:
    kind, edge, route_method = data.draw(st.sampled_from(GRAPH_ROUTES), label="route")
    node = data.draw(
        st.sampled_from([target.nodes[kind]]) | st.sampled_from(list(target.nodes.values())) | st.text(max_size=20),
        label="node",
    )
    edge = data.draw(st.sampled_from([edge]) | st.text(max_size=12), label="edge") if edge else edge
    version = data.draw(st.sampled_from(["v23.0/", "", "v17.0/", "v9.9/", "v23/"]), label="version")
    method = data.draw(st.sampled_from([route_method]) | st.sampled_from(METHODS), label="method")
    headers, params = data.draw(auth_variants(target.tenant.credentials.access_token), label="auth")
    params |= data.draw(
        st.dictionaries(
            st.sampled_from(["fields", "limit", "after", "before", "phone_number_id", "summary", "x"]),
            st.text(max_size=20),
            max_size=3,
        )
    )
    if (kind, edge, route_method) == ("phone_number", "messages", "POST") and data.draw(st.booleans()):
        body: dict[str, Any] = {"json": data.draw(mutated(data.draw(st.sampled_from(valid_messages("16505551234")))))}
    else:
        body = data.draw(bodies(), label="body")
    path = "/" + version + quote(node, safe="") + (f"/{quote(edge, safe='')}" if edge else "")
    response = target.client.request(
        method, path, params=params, headers={**body.pop("headers", {}), **headers}, **body
    )
    check(response, caplog)
    target.alive()


def test_graph_endpoints_leave_a_working_tenant(target: Target) -> None:
    target.sends()


@FUZZ
@given(data=st.data())
def test_message_bodies(target: Target, caplog: pytest.LogCaptureFixture, data: st.DataObject) -> None:
    """Valid bodies with one part mutated: 200 with the success shape, or a 4xx Graph error."""
    to = data.draw(st.sampled_from(["16505551234", "+44 7700 900123", "5511987654321"]))
    body = data.draw(mutated(data.draw(st.sampled_from(valid_messages(to)))))
    response = target.client.post(f"/v23.0/{target.nodes['phone_number']}/messages", headers=target.auth, json=body)
    check(response, caplog)
    if response.status_code == 200:
        answer = response.json()
        assert answer == {"success": True} or set(answer) == {"messaging_product", "contacts", "messages"}
    target.alive()


@FUZZ
@given(data=st.data())
def test_control_endpoints(target: Target, caplog: pytest.LogCaptureFixture, data: st.DataObject) -> None:
    method, template = data.draw(st.sampled_from(CONTROL_ROUTES), label="route")
    method = data.draw(st.sampled_from([method]) | st.sampled_from(METHODS), label="method")
    assume((method, template) not in DESTRUCTIVE)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        value = data.draw(st.sampled_from([target.params.get(name, "x")]) | st.text(max_size=16), label=name)
        return quote(value, safe="")

    path = re.sub(r"\{([^}]+)\}", fill, template)
    params = data.draw(
        st.dictionaries(
            st.sampled_from(
                ["limit", "since", "to", "status", "field", "direction", "method", "state", "phone_number"]
            ),
            st.text(max_size=20),
        )
    )
    body = data.draw(bodies(), label="body")
    response = target.client.request(method, path, params=params, **body)
    check(response, caplog)
    target.alive()


def test_control_endpoints_leave_a_working_tenant(target: Target) -> None:
    target.sends()


@FUZZ
@given(
    path=st.text(max_size=60).map(lambda text: "/" + quote(text, safe="/")),
    method=st.sampled_from(METHODS),
    prefix=st.sampled_from(["", "/_sandbox", "/_sandbox/tenants/t1", "/v23.0", "/whatsapp_business/attachments"]),
)
def test_arbitrary_paths(target: Target, caplog: pytest.LogCaptureFixture, path: str, method: str, prefix: str) -> None:
    response = target.client.request(method, prefix + path, headers=target.auth)
    check(response, caplog)


def test_expect_control_reads_the_decoded_path() -> None:
    assert expect_control(httpx.URL("http://t/%5Fsandbox/x"))
    assert not expect_control(httpx.URL("http://t/_sandbox"))
    assert urlsplit("http://t/_sandbox/").path == "/_sandbox/"
