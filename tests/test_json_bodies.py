"""JSON nesting is bounded where both planes parse bodies (issue 15, item 2): a body nested a few hundred levels
is Meta's 100 on Graph and a SandboxError on the control plane, nothing deeper than `MAX_DEPTH` is stored, and
the tenant's state and journal keep answering."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from sandbox import json_bodies
from sandbox.context import Tenant
from sandbox.json_bodies import MAX_DEPTH, TooDeep, depth_exceeds
from tests.control.test_faults import CUSTOMER, graph_error, sandbox_error

# Meta's carousel template send (the deepest payload its docs show): 11 levels.
CAROUSEL_SEND = {
    "messaging_product": "whatsapp",
    "to": CUSTOMER,
    "type": "template",
    "template": {
        "name": "summer_carousel",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "carousel",
                "cards": [
                    {
                        "card_index": 0,
                        "components": [
                            {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x.test/a"}}]}
                        ],
                    }
                ],
            }
        ],
    },
}


def nested(depth: int, kinds: str = "o") -> str:
    """Text of `depth` nested arrays/objects around `1`; `kinds` cycles through `o` (object) and `a` (array)."""
    opening = "".join('{"a":' if kinds[i % len(kinds)] == "o" else "[" for i in range(depth))
    closing = "".join("}" if kinds[i % len(kinds)] == "o" else "]" for i in reversed(range(depth)))
    return opening + "1" + closing


def text_send(extra: str) -> str:
    return f'{{"messaging_product":"whatsapp","to":"{CUSTOMER}","type":"text","text":{{"body":"hi","x":{extra}}}}}'


def inbound(extra: str) -> str:
    return f'{{"from":"{CUSTOMER}","type":"text","text":{{"body":"hi","x":{extra}}}}}'


# --- the parser -------------------------------------------------------------------------------------------------


def test_the_carousel_send_is_well_within_the_bound() -> None:
    assert not depth_exceeds(CAROUSEL_SEND, 11) and depth_exceeds(CAROUSEL_SEND, 10)
    assert json_bodies.loads(orjson.dumps(CAROUSEL_SEND)) == CAROUSEL_SEND


def test_the_bound_counts_arrays_and_objects() -> None:
    assert json_bodies.loads(nested(MAX_DEPTH, "oa")) is not None
    for depth in (MAX_DEPTH + 1, 300, 1_000, 1_025, 100_000):
        with pytest.raises(TooDeep):
            json_bodies.loads(nested(depth, "oa"))
    # The shortest text too deep has 2 * MAX_DEPTH + 2 characters: `loads` counts brackets only past 2 * MAX_DEPTH.
    with pytest.raises(TooDeep):
        json_bodies.loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert json_bodies.loads(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    with pytest.raises(TooDeep):
        json_bodies.loads(nested(MAX_DEPTH + 1, "a").encode())
    assert json_bodies.loads('"[[[[["') == "[[[[["
    with pytest.raises(ValueError, match="unexpected") as refused:
        json_bodies.loads("{")
    assert not isinstance(refused.value, TooDeep)


@given(st.integers(min_value=0, max_value=3_000), st.text("oa", min_size=1, max_size=5), st.booleans())
def test_any_nesting_is_parsed_or_refused_as_too_deep_never_a_recursion_error(
    depth: int, kinds: str, as_bytes: bool
) -> None:
    text = nested(depth, kinds)  # `depth` containers around 1: depth levels
    try:
        value = json_bodies.loads(text.encode() if as_bytes else text)
    except TooDeep:
        assert depth > MAX_DEPTH
    else:
        assert depth <= MAX_DEPTH and not depth_exceeds(value)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=40,
)


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


@given(JSON_VALUES, st.integers(min_value=0, max_value=12))
def test_depth_exceeds_agrees_with_a_recursive_count(value: Any, limit: int) -> None:
    assert depth_exceeds(value, limit) == (depth_of(value) > limit)


# --- Graph ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [300, 1_000])
def test_a_deep_send_is_metas_100_and_the_tenant_keeps_answering(
    client: TestClient, auth: dict[str, str], phone_number_id: str, tenant: Tenant, depth: int
) -> None:
    headers = auth | {"content-type": "application/json"}
    response = client.post(f"/v23.0/{phone_number_id}/messages", content=text_send(nested(depth)), headers=headers)
    error = graph_error(response, 100, 400)
    assert error["message"] == "(#100) Invalid parameter"
    assert "nested deeper than 64 levels" in error["error_data"]["details"]
    assert client.get(f"/_sandbox/tenants/{tenant.id}").status_code == 200
    assert client.get(f"/_sandbox/tenants/{tenant.id}/messages").json()["data"] == []


def test_deep_json_in_a_form_field_or_a_query_is_metas_100(
    client: TestClient, auth: dict[str, str], phone_number_id: str, tenant: Tenant
) -> None:
    form = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": nested(300)}
    graph_error(client.post(f"/v23.0/{phone_number_id}/messages", data=form, headers=auth), 100, 400)
    filtering = nested(300, "a")
    response = client.get(f"/v23.0/{tenant.waba_id}/phone_numbers", params={"filtering": filtering}, headers=auth)
    graph_error(response, 100, 400)


def test_a_send_as_deep_as_metas_carousel_is_parsed(
    client: TestClient, auth: dict[str, str], phone_number_id: str
) -> None:
    response = client.post(f"/v23.0/{phone_number_id}/messages", json=CAROUSEL_SEND, headers=auth)
    # Past the parser: what answers is the template check (the sandbox does not send carousels).
    assert response.status_code == 400 and "nested deeper" not in response.text


# --- the control plane ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [300, 1_000])
def test_a_deep_inbound_message_is_refused_and_nothing_is_stored(
    client: TestClient, tenant: Tenant, depth: int
) -> None:
    response = client.post(f"/_sandbox/tenants/{tenant.id}/inbound", content=inbound(nested(depth)))
    assert "nested deeper than 64 levels" in sandbox_error(response, 400)
    assert client.get(f"/_sandbox/tenants/{tenant.id}").status_code == 200
    journal = client.get(f"/_sandbox/tenants/{tenant.id}/messages")
    assert journal.status_code == 200 and journal.json()["data"] == []


# One tenant takes every example: messages it stores are what the state and journal must keep rendering.
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.integers(min_value=1, max_value=1_200), kinds=st.text("oa", min_size=1, max_size=3))
def test_an_inbound_message_of_any_nesting_is_stored_whole_or_refused(
    client: TestClient, tenant: Tenant, depth: int, kinds: str
) -> None:
    response = client.post(f"/_sandbox/tenants/{tenant.id}/inbound", content=inbound(nested(depth, kinds)))
    # The body adds two levels (the body and `text`) around the nested value.
    assert response.status_code == (200 if depth + 2 <= MAX_DEPTH else 400), response.text
    assert client.get(f"/_sandbox/tenants/{tenant.id}").status_code == 200
    assert client.get(f"/_sandbox/tenants/{tenant.id}/messages").status_code == 200
