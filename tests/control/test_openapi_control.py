"""The control plane's OpenAPI description: complete, valid OpenAPI 3.1, and true of the answers (schemathesis)."""

from __future__ import annotations

import inspect
import os
import re
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig
from starlette.routing import Route
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox
from sandbox.control import control_routes
from sandbox.control.openapi import description
from sandbox.control.routing import ControlRoute
from sandbox.settings import Settings
from sandbox.testing import RecordingTransport, check_sandbox_error
from tests.control.test_control_fuzz import ensure_tenants

ROOT = Path(__file__).resolve().parents[2]
DESCRIPTION = description(control_routes())
# The coverage phase tries each field's bounds; over the policy's 134 knobs that is ~3,400 cases, which
# tests/domain/test_policy.py and test_control_fuzz.py already cover. Methods a path does not have answer 405 from
# one catch-all (tests/control/test_control_plane.py).
CONFIG = SchemathesisConfig.from_dict(
    {
        "phases": {"coverage": {"unexpected-methods": []}},
        "operations": [{"include-operation-id": "policy.patch_policy", "phases": {"coverage": {"enabled": False}}}],
    }
)
SCHEMA = schemathesis.openapi.from_dict(DESCRIPTION, config=CONFIG)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Per operation, in the fuzzing phase (the coverage phase adds ~1,500 boundary cases): ~2,000 cases, ~25 s of
# CPU. A deeper probe: WA_OPENAPI_EXAMPLES=100 (docs/testing.md).
EXAMPLES = int(os.environ.get("WA_OPENAPI_EXAMPLES", "8"))
CASES: Counter[str] = Counter()


def _declared() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, operations in DESCRIPTION["paths"].items() for method in operations}


def test_every_control_route_is_described_and_nothing_else() -> None:
    served = {
        (method, route.path)
        for route in control_routes()
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert _declared() == served
    assert all(isinstance(route, ControlRoute) for route in control_routes())


def test_the_description_is_valid_openapi_3_1() -> None:
    assert DESCRIPTION["openapi"].startswith("3.1")
    validate(DESCRIPTION)


def test_every_handler_that_reads_a_body_names_its_parser() -> None:
    """The description's bodies come from the parser a route names; that must be the parser its handler calls."""
    for route in control_routes():
        assert isinstance(route, ControlRoute)
        source = inspect.getsource(route.endpoint)
        if route.body_media != "application/json":  # a file upload: read as bytes, described as binary
            assert ("request.body()" in source or "read_bytes(" in source) and route.body_schema is not None, route.path
            continue
        if "json_body(" not in source:
            assert route.body is None and route.body_schema is None, route.path
            continue
        assert route.body is not None or route.body_schema is not None, (route.path, "reads a body it does not name")
        if route.body is not None:
            parser = route.body.func if isinstance(route.body, partial) else route.body
            assert f"{parser.__name__}(" in source, (route.path, parser.__name__)
        assert ("required=True" in source) == route.body_required, route.path


def test_a_body_schema_is_what_the_parser_enforces() -> None:
    faults = DESCRIPTION["paths"]["/_sandbox/tenants/{tenant}/faults"]["post"]["requestBody"]
    body = faults["content"]["application/json"]["schema"]
    assert faults["required"] is True
    assert body["additionalProperties"] is False
    assert body["properties"]["times"] == {"type": "integer", "minimum": 1, "maximum": 1_000_000}
    assert body["properties"]["probability"] == {"type": "number", "minimum": 0, "maximum": 1}
    assert body["properties"]["error"]["required"] == ["code"]
    advance = DESCRIPTION["paths"]["/_sandbox/tenants/{tenant}/clock/advance"]["post"]["requestBody"]
    seconds = advance["content"]["application/json"]["schema"]["properties"]["seconds"]
    assert seconds["maximum"] == 10 * 365 * 86400


@pytest.fixture
def guarded() -> Iterator[TestClient]:
    sandbox = Sandbox(Settings(seed=7, admin_token="an-admin-token-long-enough-1234"))
    with TestClient(create_app(sandbox, transport=RecordingTransport())) as client:
        yield client


def test_the_description_and_its_viewer_are_public_and_the_rest_is_not(guarded: TestClient) -> None:
    assert guarded.get("/_sandbox/openapi.json").json()["paths"] == DESCRIPTION["paths"]
    page = guarded.get("/_sandbox/docs")
    assert page.status_code == 200 and "/_sandbox/docs/swagger-ui-bundle.js" in page.text
    script = guarded.get("/_sandbox/docs/swagger-ui-bundle.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    check_sandbox_error(guarded.get("/_sandbox/docs/LICENSE"), 401)
    check_sandbox_error(guarded.get("/_sandbox/"), 401)
    check_sandbox_error(guarded.get("/_sandbox/tenants"), 401)


def test_the_index_answers_json_or_html(client: TestClient) -> None:
    index = client.get("/_sandbox/", headers={"accept": "application/json"})
    assert index.status_code == 200
    document = index.json()
    assert document["links"]["docs"] == "/_sandbox/docs" and document["links"]["openapi"] == "/_sandbox/openapi.json"
    assert {area["name"] for area in document["areas"]} >= {"tenants", "clock", "faults", "policy"}
    page = client.get("/_sandbox/", headers={"accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html") and 'href="/_sandbox/health"' in page.text


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[TestClient, Sandbox]]:
    sandbox = Sandbox(Settings(seed=7))
    with TestClient(create_app(sandbox, transport=RecordingTransport())) as client:
        yield client, sandbox


def _known(sandbox: Sandbox, name: str, generated: str) -> str:
    """Most path parameters point at something that exists, so the handlers behind the 404 are reached; a few
    keep the generated value."""
    tenant = sandbox.tenants["t1"]
    known: dict[str, list[str]] = {
        "tenant": ["t1", "t1", "rt"],
        "phone_number_id": [phone.id for phone in tenant.store.phone_numbers],
        "waba_id": [tenant.waba_id],
        "wa_id": ["16505551234", "15550100001"],
        "e164": ["+16505551234"],
        "template_id": [template.id for template in tenant.store.templates],
        "wamid": [message.wamid for message in tenant.store.messages.newest(3, lambda m: True)],
    }
    choices = known.get(name) or []
    slot = sum(map(ord, generated)) % (len(choices) + 1)
    return choices[slot] if slot < len(choices) else generated


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_answer_is_as_described(case: Any, served: tuple[TestClient, Sandbox]) -> None:
    client, sandbox = served
    ensure_tenants(sandbox)
    for name, value in (case.path_parameters or {}).items():
        case.path_parameters[name] = _known(sandbox, name, str(value))
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    kwargs.pop("cookies", None)
    if isinstance(kwargs.get("data"), bytes):
        kwargs["content"] = kwargs.pop("data")
    answer = client.request(**kwargs)
    CASES[f"{answer.status_code // 100}xx"] += 1
    case.validate_response(answer, checks=CHECKS)


def teardown_module() -> None:
    """With `-s`, the figures docs/testing.md quotes."""
    print(f"\nschemathesis: {sum(CASES.values())} cases, by status {dict(sorted(CASES.items()))}")


def test_a_url_urlsplit_refuses_is_a_400_not_a_500(client: TestClient) -> None:
    """Found by the probes: an unclosed IPv6 bracket made `urlsplit` raise, and the callback URL answer a 500;
    Graph's `override_callback_uri` had the same fault."""
    check_sandbox_error(client.put("/_sandbox/tenants/t1/webhook", json={"url": "http://[::1"}), 400)
    tenant = client.get("/_sandbox/tenants/t1").json()
    answer = client.post(
        f"/v23.0/{tenant['waba_id']}/subscribed_apps",
        headers={"authorization": f"Bearer {tenant['access_token']}"},
        json={"override_callback_uri": "http://[::1", "verify_token": "x"},
    )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == 100, answer.text


def test_every_control_route_is_in_the_users_reference() -> None:
    """docs/reference/control-plane.md is what users read: every served route is in it (placeholders aside)."""
    placeholder = re.compile(r"\{[^}]*\}")
    reference = placeholder.sub("{}", (ROOT / "docs" / "reference" / "control-plane.md").read_text())
    missing = [
        f"{method} {route.path}"
        for route in control_routes()
        for method in sorted(route.methods or ())
        if method != "HEAD" and placeholder.sub("{}", route.path) not in reference
    ]
    assert not missing, "control routes missing from docs/reference/control-plane.md: " + ", ".join(missing)


def test_every_query_parameter_a_handler_reads_is_described() -> None:
    """The names a handler reads off its query string (directly or through `limit_of`) are its route's `query`."""
    reads = re.compile(
        r"""(?:\bq|query_params|query)(?:\.get\(|\[|\.time\(|\.choice\()\s*"([a-z_]+)"|"([a-z_]+)" in q\b"""
    )
    for route in control_routes():
        assert isinstance(route, ControlRoute)
        source = inspect.getsource(route.endpoint)
        names = {a or b for a, b in reads.findall(source)}
        if "limit_of(" in source:
            names.add("limit")
        assert names <= set(route.query), (route.path, sorted(names - set(route.query)))
