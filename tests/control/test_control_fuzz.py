"""Hypothesis over every control route, with bodies mixing valid-looking and hostile values: never a 5xx.

The routes come from `control_routes()`, the field names from the control plane's reference (its body column)
and from the readers in sandbox/control/*.py and the policy's own description, so a new route or field is fuzzed
without editing this file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox, Tenant
from sandbox.control import control_routes
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.domain.policy import Policy
from sandbox.services.tenants import create_tenant
from sandbox.testing import RecordingTransport, check_sandbox_error
from tests.conftest import CALLBACK, START

ROOT = Path(__file__).resolve().parents[2]
READERS = "text|number|integer|flag|choice|time|object|items|strings|raw|has"
ROUTES = sorted(
    (method, route.path)
    for route in control_routes()
    if isinstance(route, Route)
    for method in route.methods or ()
    if method != "HEAD"
)

# What each route answers with (`ControlRoute.media_types`): JSON but for the index's page and the docs viewer.
MEDIA_TYPES = {route.path: getattr(route, "media_types", ("application/json",)) for route in control_routes()}


def _field_names() -> list[str]:
    reference = (ROOT / "docs/reference/control-plane.md").read_text()
    readers = "\n".join(path.read_text() for path in (ROOT / "sandbox/control").glob("*.py"))
    names = set(re.findall(r'"([a-z_][a-z0-9_]{1,40})"', reference))
    names |= set(re.findall(rf'\.(?:{READERS})\("(\w+)"', readers))
    for knob in Policy.describe():
        names |= {knob["group"], knob["name"], knob["flat_name"]}
    return sorted(names)


FIELDS = _field_names()


def _route_fields() -> dict[tuple[str, str], list[str]]:
    """Each route's body fields, as its row of the reference names them (`| `POST /path` | `{"seconds"}` |`)."""
    found: dict[tuple[str, str], list[str]] = {}
    reference = (ROOT / "docs/reference/control-plane.md").read_text()
    for method, path, rest in re.findall(r"^\| `([A-Z]+) (/_sandbox/[^`?]*)[^`]*` \|(.*)$", reference, re.M):
        names = re.findall(r'"([a-z_][a-z0-9_]{1,40})"', rest.split("|")[0])
        found.setdefault((method, re.sub(r"\{(\w+)[^}]*\}", r"{\1}", path)), []).extend(names)
    return found


ROUTE_FIELDS = _route_fields()
WORDS = [
    *re.findall(r"\b[a-z_]{3,20}\b", " ".join(FIELDS)),
    "realtime", "frozen", "live", "trial", "blank", "APPROVED", "REJECTED", "deliver", "read", "fail", "verify",
]  # fmt: skip

huge_numbers = st.sampled_from([0, -1, 1, 2**31, 2**63, 2**64 + 1, 10**30, 1e12, 1e308, -1e308, 1e-320, 0.5])
hostile_strings = st.sampled_from(
    ["nan", "NaN", "inf", "-Infinity", "", " ", "\x00", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
     "2100-01-01T00:00:00Z", "2026-01-05T09:00:00+14:00", "1e309", "ｆｕｌｌ", "☃" * 300, "a" * 5000, "http://[::1",
     "http://receiver.test/webhook", "+1 (555) 010-0100", "15550100001", "../..", "%00", "{}", "[]"]
)  # fmt: skip
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    huge_numbers,
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_strings,
    st.sampled_from(WORDS),
    st.text(max_size=20),
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=8))
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4), st.lists(leaves, min_size=2, max_size=2)
    ),
    max_leaves=12,
)


@st.composite
def deep(draw: st.DrawFn) -> Any:
    value: Any = draw(leaves)
    for _ in range(draw(st.integers(1, 60))):
        value = {draw(st.sampled_from(FIELDS)): value} if draw(st.booleans()) else [value]
    return value


bodies = st.one_of(
    st.dictionaries(keys, st.one_of(values, deep()), max_size=6),
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=4),
    st.dictionaries(st.sampled_from(FIELDS), st.one_of(huge_numbers, st.sampled_from(WORDS)), max_size=2),
    st.sampled_from([None, [], "text", 1, b"\xff\xfe", b"{", b'{"a": NaN}', b'{"seconds": Infinity}']),
)


@pytest.fixture
def served(sandbox: Sandbox, tenant: Tenant) -> Iterator[tuple[TestClient, Sandbox]]:
    with TestClient(create_app(sandbox, transport=RecordingTransport())) as client:
        yield client, sandbox


def _parameter(name: str, tenant: Tenant | None, draw: st.DrawFn) -> str:
    known: dict[str, list[str]] = {"tenant": ["t1", "t1", "t1", "rt", "rt", "nobody"]}
    if tenant is not None:
        known |= {
            "phone_number_id": [phone.id for phone in tenant.store.phone_numbers],
            "waba_id": [tenant.waba_id],
            "wa_id": ["16505551234", "15550100001"],
            "e164": ["+15550100001", "15550100001"],
        }
    if name == "tenant":
        return draw(st.sampled_from(known["tenant"]))
    hostile = st.one_of(st.sampled_from(WORDS), st.text(min_size=1, max_size=12))
    if name not in known or not known[name]:
        return draw(hostile)
    return draw(st.one_of(st.sampled_from(known[name]), st.sampled_from(known[name]), hostile))


def ensure_tenants(sandbox: Sandbox) -> None:
    """The tenants a case names most of the time, `t1` frozen and `rt` realtime (a case may delete or reset them)."""
    if "t1" not in sandbox.tenants:
        created = create_tenant(
            sandbox, CreateTenant(name="t1", clock=ConfigureClock(mode="frozen"), webhook_url=CALLBACK), start=START
        )
        created.policy.messages.progression = "immediate"
    if "rt" not in sandbox.tenants:
        create_tenant(sandbox, CreateTenant(name="rt", clock=ConfigureClock(mode="realtime", rate=1000)))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_control_route_answers_5xx(served: tuple[TestClient, Sandbox], data: st.DataObject) -> None:
    client, sandbox = served
    ensure_tenants(sandbox)
    tenant = sandbox.tenants.get("t1")
    method, template = data.draw(st.sampled_from(ROUTES), label="route")
    path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: quote(_parameter(m.group(1), tenant, data.draw), safe=""), template)
    own = ROUTE_FIELDS.get((method, template))
    if own and data.draw(st.booleans()):
        small = st.one_of(huge_numbers, hostile_strings, st.sampled_from(WORDS), values)
        body: Any = data.draw(st.dictionaries(st.sampled_from(own), small, max_size=3), label="body")
    else:
        body = data.draw(bodies, label="body")
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer = client.request(method, path, content=content, headers={"content-type": "application/json"})
    assert answer.status_code < 500, (method, path, body, answer.text[:500])
    if answer.status_code >= 400:
        check_sandbox_error(answer, answer.status_code)
    else:
        assert answer.headers["content-type"].split(";")[0] in MEDIA_TYPES[template], (template, answer.headers)
