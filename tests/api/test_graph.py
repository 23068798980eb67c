"""The Graph surface itself: version prefixes, tokens, node and edge resolution, body decoding, error envelopes.

Every negative case asserts Meta's code, the HTTP status, the whole envelope and its `fbtrace_id`
(meta-messaging.md §1; sandbox.testing.check_graph_error).
"""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.testing import check_graph_error, running_server

TEXT = {"messaging_product": "whatsapp", "to": "16505551234", "type": "text", "text": {"body": "hello"}}
UNKNOWN_OBJECT = (
    "Unsupported {method} request. Object with ID '{node}' does not exist, cannot be loaded due to missing "
    "permissions, or does not support this operation. Please read the Graph API documentation at "
    "https://developers.facebook.com/docs/graph-api"
)


def unknown_object(response: Any, node: str, method: str) -> None:
    error = check_graph_error(response, 100, 400, subcode=33, type="GraphMethodException")
    assert error["message"] == UNKNOWN_OBJECT.format(method=method, node=node)
    assert "error_data" not in error
    assert response.headers["www-authenticate"].startswith('OAuth "Facebook Platform" "invalid_request"')


@pytest.mark.parametrize("version", ["v23.0", "v17.0", "v25.0", "v26.0", "v14.0", "v2.5", "v9.12"])
def test_any_version_prefix_is_served_and_echoed(
    client: TestClient, auth: dict[str, str], phone_number_id: str, version: str
) -> None:
    response = client.get(f"/{version}/{phone_number_id}", headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == phone_number_id
    assert response.headers["facebook-api-version"] == version


def test_unversioned_path_gets_the_default_version(
    client: TestClient, auth: dict[str, str], phone_number_id: str
) -> None:
    response = client.get(f"/{phone_number_id}", headers=auth)
    assert response.status_code == 200
    assert response.headers["facebook-api-version"] == "v23.0"
    sent = client.post(f"/{phone_number_id}/messages", headers=auth, json=TEXT)
    assert sent.status_code == 200, sent.text


@pytest.mark.parametrize("path", ["/v23/{id}", "/V23.0/{id}", "/23.0/{id}", "/vX.0/{id}"])
def test_odd_prefixes_are_not_versions_but_unknown_nodes(
    client: TestClient, auth: dict[str, str], phone_number_id: str, path: str
) -> None:
    response = client.get(path.format(id=phone_number_id), headers=auth)
    unknown_object(response, path.split("/")[1], "get")


def test_graph_headers_on_success(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    response = client.get(f"/v23.0/{phone_number_id}", headers=auth)
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    assert response.headers["x-fb-trace-id"]
    assert response.headers["cache-control"] == "private, no-cache, no-store, must-revalidate"
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Authorization": "Bearer {token}"}, id="Bearer"),
        pytest.param({"authorization": "Bearer {token}"}, id="lower-case header"),
        pytest.param({"Authorization": "bearer {token}"}, id="lower-case scheme"),
        pytest.param({"Authorization": "OAuth {token}"}, id="OAuth scheme"),
    ],
)
def test_token_in_the_authorization_header(
    client: TestClient, tenant: Tenant, phone_number_id: str, headers: dict[str, str]
) -> None:
    filled = {key: value.format(token=tenant.credentials.access_token) for key, value in headers.items()}
    assert client.get(f"/v23.0/{phone_number_id}", headers=filled).status_code == 200


def test_token_as_access_token_query_parameter(client: TestClient, tenant: Tenant, phone_number_id: str) -> None:
    token = tenant.credentials.access_token
    assert client.get(f"/v23.0/{phone_number_id}", params={"access_token": token}).status_code == 200
    sent = client.post(f"/v23.0/{phone_number_id}/messages", params={"access_token": token}, json=TEXT)
    assert sent.status_code == 200, sent.text
    assert "access_token" not in sent.json()


def test_missing_token(client: TestClient, phone_number_id: str) -> None:
    response = client.post(f"/v23.0/{phone_number_id}/messages", json=TEXT)
    # Meta's answer without a token is unverified (104, 190 or 200); the sandbox uses Graph's 104.
    error = check_graph_error(response, 104, 401)
    assert error["message"] == "An access token is required to request this resource."
    assert response.headers["www-authenticate"].startswith('OAuth "Facebook Platform" "invalid_token"')


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz"])
def test_empty_or_foreign_authorization_counts_as_missing(
    client: TestClient, phone_number_id: str, header: str
) -> None:
    check_graph_error(client.get(f"/v23.0/{phone_number_id}", headers={"Authorization": header}), 104, 401)


@pytest.mark.parametrize("token", ["EAAnot-a-real-token", "x", "EAA" + "A" * 300])
def test_unknown_token(client: TestClient, phone_number_id: str, token: str) -> None:
    response = client.get(f"/v23.0/{phone_number_id}", headers={"Authorization": f"Bearer {token}"})
    error = check_graph_error(response, 190, 401)
    assert error["message"] == "Invalid OAuth access token - Cannot parse access token"
    assert "error_subcode" not in error and "error_data" not in error
    assert response.headers["www-authenticate"].startswith('OAuth "Facebook Platform" "invalid_token"')


def test_expired_token(client: TestClient, tenant: Tenant, phone_number_id: str) -> None:
    issued = client.post(f"/_sandbox/tenants/{tenant.id}/tokens", json={"expires_in": 60})
    assert issued.status_code == 201, issued.text
    temporary = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    assert client.get(f"/v23.0/{phone_number_id}", headers=temporary).status_code == 200
    client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 59})
    assert client.post(f"/v23.0/{phone_number_id}/messages", headers=temporary, json=TEXT).status_code == 200
    client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 1})
    response = client.post(f"/v23.0/{phone_number_id}/messages", headers=temporary, json=TEXT)
    error = check_graph_error(response, 190, 401, subcode=463)
    assert error["message"].startswith("Error validating access token: Session has expired on ")
    assert "The current time is" in error["message"]
    # The tenant's own long-lived token still works.
    main = {"Authorization": f"Bearer {tenant.credentials.access_token}"}
    assert client.get(f"/v23.0/{phone_number_id}", headers=main).status_code == 200


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_unknown_node(client: TestClient, auth: dict[str, str], method: str) -> None:
    response = client.request(method, "/v23.0/123456789012345", headers=auth)
    unknown_object(response, "123456789012345", method.lower())


def test_unknown_node_with_an_edge(client: TestClient, auth: dict[str, str]) -> None:
    unknown_object(client.post("/v23.0/123456789012345/messages", headers=auth, json=TEXT), "123456789012345", "post")


def test_root_path_is_an_unknown_object(client: TestClient, auth: dict[str, str]) -> None:
    unknown_object(client.get("/v23.0/", headers=auth), "", "get")


def test_another_tenants_node_is_unknown(client: TestClient, sandbox: Sandbox, tenant: Tenant) -> None:
    other = create_tenant(
        sandbox,
        CreateTenant(name="other", clock=ConfigureClock(mode="frozen")),
        start=datetime(2026, 1, 5, 9, tzinfo=UTC),
    )
    theirs = other.document()
    mine = {"Authorization": f"Bearer {tenant.credentials.access_token}"}
    for path in (theirs["phone_number_id"], theirs["waba_id"], f"{theirs['waba_id']}/phone_numbers"):
        node = path.split("/")[0]
        unknown_object(client.get(f"/v23.0/{path}", headers=mine), node, "get")
    unknown_object(
        client.post(f"/v23.0/{theirs['phone_number_id']}/messages", headers=mine, json=TEXT),
        theirs["phone_number_id"],
        "post",
    )
    # And the other way round.
    yours = {"Authorization": f"Bearer {other.credentials.access_token}"}
    unknown_object(
        client.get(f"/v23.0/{tenant.document()['phone_number_id']}", headers=yours),
        tenant.document()["phone_number_id"],
        "get",
    )


@pytest.mark.parametrize(
    ("method", "edge"),
    [("DELETE", None), ("PUT", None), ("PATCH", None), ("GET", "messages"), ("DELETE", "messages")],
)
def test_wrong_method(
    client: TestClient, auth: dict[str, str], phone_number_id: str, method: str, edge: str | None
) -> None:
    path = f"/v23.0/{phone_number_id}" + (f"/{edge}" if edge else "")
    unknown_object(client.request(method, path, headers=auth), phone_number_id, method.lower())


def test_wrong_method_on_a_waba(client: TestClient, auth: dict[str, str], tenant: Tenant) -> None:
    unknown_object(client.post(f"/v23.0/{tenant.waba_id}", headers=auth, json={}), tenant.waba_id, "post")


@pytest.mark.parametrize("edge", ["nope", "message", "Messages", "phone_numbers"])
def test_unknown_edge(client: TestClient, auth: dict[str, str], phone_number_id: str, edge: str) -> None:
    response = client.get(f"/v23.0/{phone_number_id}/{edge}", headers=auth)
    error = check_graph_error(response, 100, 400, type="OAuthException")
    assert (
        error["message"]
        == f"(#100) Tried accessing nonexisting field ({edge}) on node type (WhatsAppBusinessPhoneNumber)"
    )
    assert "error_subcode" not in error


@pytest.mark.parametrize("fields", ["\x04I", "id,Name", "id,display phone", "-", "9lives"])
def test_a_field_no_node_has_is_refused(client: TestClient, auth: dict[str, str], tenant: Tenant, fields: str) -> None:
    """Found by schemathesis: a name that cannot be a field was dropped and the rest answered; Graph says #100."""
    response = client.get(f"/v23.0/{tenant.waba_id}", headers=auth, params={"fields": fields})
    error = check_graph_error(response, 100, 400, type="OAuthException")
    assert error["message"].startswith("(#100) Tried accessing nonexisting field (")
    assert error["message"].endswith(") on node type (WhatsAppBusinessAccount)")


def test_well_formed_fields_are_projected(client: TestClient, auth: dict[str, str], tenant: Tenant) -> None:
    response = client.get(f"/v23.0/{tenant.waba_id}", headers=auth, params={"fields": "name, not_modelled,id"})
    assert list(response.json()) == ["name", "id"]


def test_too_deep_path(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    response = client.get(f"/v23.0/{phone_number_id}/messages/extra", headers=auth)
    check_graph_error(response, 100, 400, subcode=33, type="GraphMethodException")


@pytest.mark.parametrize("raw", [b"{", b'{"messaging_product": "whatsapp",}', b"\xff\xfe", b'{"a": NaN}', b"[1, 2"])
def test_malformed_json(client: TestClient, auth: dict[str, str], phone_number_id: str, raw: bytes) -> None:
    response = client.post(
        f"/v23.0/{phone_number_id}/messages", headers=auth | {"Content-Type": "application/json"}, content=raw
    )
    error = check_graph_error(response, 100, 400)
    assert error["message"] == "(#100) Invalid parameter"


@pytest.mark.parametrize("body", [b"[]", b"null", b'"text"', b"42", b""])
def test_json_that_is_not_an_object_lacks_messaging_product(
    client: TestClient, auth: dict[str, str], phone_number_id: str, body: bytes
) -> None:
    response = client.post(
        f"/v23.0/{phone_number_id}/messages", headers=auth | {"Content-Type": "application/json"}, content=body
    )
    error = check_graph_error(response, 100, 400)
    assert error["message"] == "(#100) The parameter messaging_product is required."


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "image/png", "application/octet-stream"])
def test_wrong_content_type(client: TestClient, auth: dict[str, str], phone_number_id: str, content_type: str) -> None:
    response = client.post(
        f"/v23.0/{phone_number_id}/messages",
        headers=auth | {"Content-Type": content_type},
        content=json.dumps(TEXT).encode(),
    )
    error = check_graph_error(response, 100, 400)
    assert content_type in error["error_data"]["details"]


def test_json_with_charset_is_json(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    response = client.post(
        f"/v23.0/{phone_number_id}/messages",
        headers=auth | {"Content-Type": "application/json; charset=utf-8"},
        content=json.dumps(TEXT).encode(),
    )
    assert response.status_code == 200, response.text


def test_chunked_body_without_content_length(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    raw = json.dumps(TEXT).encode()

    def chunks() -> Any:
        yield raw[:10]
        yield raw[10:]

    response = client.post(
        f"/v23.0/{phone_number_id}/messages", headers=auth | {"Content-Type": "application/json"}, content=chunks()
    )
    assert response.status_code == 200, response.text
    assert response.json()["contacts"][0]["wa_id"] == "16505551234"


@pytest.mark.server
def test_chunked_body_over_a_real_socket() -> None:
    """Meta's Node SDK posts with `Transfer-Encoding: chunked` and no Content-Length (client-traffic.md §2.2)."""
    with running_server() as url:
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        connection.request("GET", "/_sandbox/tenants/default")
        document = json.loads(connection.getresponse().read())
        raw = json.dumps(TEXT).encode()
        connection.putrequest("POST", f"/v23.0/{document['phone_number_id']}/messages")
        connection.putheader("Authorization", f"Bearer {document['access_token']}")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        for piece in (raw[:7], raw[7:30], raw[30:]):
            connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        connection.send(b"0\r\n\r\n")
        response = connection.getresponse()
        body = json.loads(response.read())
        connection.close()
    assert response.status == 200, body
    assert body["messages"][0]["id"].startswith("wamid.")
    assert response.getheader("server") is None  # graph.facebook.com names no server
    assert response.getheader("x-fb-trace-id") and response.getheader("date")


def test_form_encoded_body(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    response = client.post(
        f"/v23.0/{phone_number_id}/messages",
        headers=auth,
        data={"messaging_product": "whatsapp", "to": "16505551234", "type": "text", "text": '{"body": "from a form"}'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["contacts"] == [{"input": "16505551234", "wa_id": "16505551234"}]


def test_form_encoded_body_with_a_bad_nested_value(
    client: TestClient, auth: dict[str, str], phone_number_id: str
) -> None:
    response = client.post(
        f"/v23.0/{phone_number_id}/messages",
        headers=auth,
        data={"messaging_product": "whatsapp", "to": "16505551234", "type": "text", "text": "{not json"},
    )
    check_graph_error(response, 100, 400)


def test_query_parameters_fill_in_the_body(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    response = client.post(
        f"/v23.0/{phone_number_id}/messages",
        headers=auth,
        params={"messaging_product": "whatsapp"},
        json={"to": "16505551234", "text": {"body": "hi"}},
    )
    assert response.status_code == 200, response.text


def test_every_error_has_its_own_fbtrace_id(client: TestClient, auth: dict[str, str]) -> None:
    ids = {check_graph_error(client.get("/v23.0/1", headers=auth), 100, 400)["fbtrace_id"] for _ in range(20)}
    assert len(ids) == 20


def test_errors_are_journaled_with_their_code(client: TestClient, auth: dict[str, str], tenant: Tenant) -> None:
    client.get("/v23.0/1", headers=auth)
    journal = client.get(f"/_sandbox/tenants/{tenant.id}/requests").json()["data"]
    assert journal[0]["path"] == "/v23.0/1"
    assert (journal[0]["status"], journal[0]["error_code"]) == (400, 100)


@pytest.mark.parametrize(
    "path",
    [
        "/v23.0/%00",
        "/v23.0/%0D%0ASet-Cookie:%20x=1",
        "/v23.0/%22quoted%22",
        "/v23.0/%E2%98%83",
        "/v23.0/..%2F..%2Fetc",
        "/v23.0//",
        "/v23.0/' OR 1=1 --",
        "/%FF",
    ],
)
def test_odd_paths_never_500(client: TestClient, auth: dict[str, str], path: str) -> None:
    response = client.get(path, headers=auth)
    check_graph_error(response, 100, 400)
