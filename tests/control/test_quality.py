"""The quality routes of the control plane: customers' reactions and a number's rating (GET and forced PUT); every
refusal in the SandboxError envelope, never a 500, nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.services import phone_numbers
from sandbox.testing import check_sandbox_error

CUSTOMER = "15551230001"
HUGE = "9" * 100_000


def base(tenant: Tenant) -> str:
    return f"/_sandbox/tenants/{tenant.id}"


def state(client: TestClient, tenant: Tenant, phone_number_id: str) -> tuple[Any, ...]:
    document = client.get(f"{base(tenant)}/phone_numbers/{phone_number_id}/quality").json()
    customers = client.get(f"{base(tenant)}/customers").json()
    return document, customers, len(tenant.outbox.log(tenant.id))


def test_get_shows_the_rating_and_its_window(client: TestClient, tenant: Tenant, phone_number_id: str) -> None:
    response = client.get(f"{base(tenant)}/phone_numbers/{phone_number_id}/quality")
    assert response.status_code == 200
    document = response.json()
    assert document["phone_number_id"] == phone_number_id
    assert document["quality_rating"] in {"GREEN", "YELLOW", "RED", "UNKNOWN"}
    assert (document["business_initiated"], document["negative"], document["reactions"]) == (0, 0, [])
    assert document["legacy_rules"] is False  # the tenant clock starts in 2026


def test_put_forces_a_rating_and_publishes_it(client: TestClient, tenant: Tenant, phone_number_id: str) -> None:
    before = len(tenant.outbox.log(tenant.id))
    response = client.put(f"{base(tenant)}/phone_numbers/{phone_number_id}/quality", json={"quality_rating": "RED"})
    assert response.status_code == 200, response.text
    assert response.json()["quality_rating"] == "RED"
    assert response.json()["status"] == "CONNECTED"
    fields = [d.field for d in tenant.outbox.log(tenant.id)[before:]]
    assert fields == ["phone_number_quality_update"]
    again = client.put(f"{base(tenant)}/phone_numbers/{phone_number_id}/quality", json={"quality_rating": "RED"})
    assert again.status_code == 200 and len(tenant.outbox.log(tenant.id)) == before + 1  # no change, no webhook


@pytest.mark.parametrize("kind", ["block", "report", "read"])
def test_a_reaction_is_recorded(client: TestClient, tenant: Tenant, phone_number_id: str, kind: str) -> None:
    response = client.post(
        f"{base(tenant)}/customers/+1 (555) 123-0001/reactions", json={"kind": kind, "phone_number_id": phone_number_id}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reaction"]["kind"] == kind and body["reaction"]["wa_id"] == CUSTOMER
    assert body["quality"]["reactions"][0]["kind"] == kind
    assert body["quality"]["negative"] == (0 if kind == "read" else 1)
    customer = client.get(f"{base(tenant)}/customers/{CUSTOMER}").json()
    assert customer["blocked_business"] is (kind == "block")


@pytest.mark.parametrize("trigger", ["ban", "restrict"])
def test_any_number_on_the_waba_has_a_rating_that_can_be_forced(
    client: TestClient, tenant: Tenant, phone_number_id: str, trigger: str
) -> None:
    phone_numbers.move_by_hand(tenant, phone_number_id, trigger)
    response = client.put(f"{base(tenant)}/phone_numbers/{phone_number_id}/quality", json={"quality_rating": "YELLOW"})
    assert response.status_code == 200, response.text
    assert response.json()["quality_rating"] == "YELLOW"
    assert response.json()["status"] != "FLAGGED"


REACTION_REFUSALS: list[tuple[str, Any, int]] = [
    ("wa_id", {"kind": "block"}, 400),  # phone_number_id missing
    ("kind", {"kind": "like"}, 400),
    ("kind", {"kind": "BLOCK"}, 400),
    ("kind", {"kind": 1}, 400),
    ("kind", {"kind": ["block"]}, 400),
    ("kind", {}, 400),
    ("phone", {"kind": "block", "phone_number_id": 12}, 400),
    ("phone", {"kind": "block", "phone_number_id": HUGE}, 400),
    ("phone", {"kind": "block", "phone_number_id": "999"}, 404),
    ("message", {"kind": "block", "message_id": "wamid.nope"}, 404),
    ("message", {"kind": "block", "message_id": HUGE}, 400),
    ("message", {"kind": "block", "message_id": {"id": "x"}}, 400),
    ("extra", {"kind": "block", "score": 5}, 400),
    ("body", [], 400),
    ("body", "block", 400),
]


@pytest.mark.parametrize(("case", "body", "status"), REACTION_REFUSALS)
def test_bad_reactions_are_refused_and_change_nothing(
    client: TestClient, tenant: Tenant, phone_number_id: str, case: str, body: Any, status: int
) -> None:
    if isinstance(body, dict) and case not in {"wa_id", "phone"}:
        body = {"phone_number_id": phone_number_id, **body}
    before = state(client, tenant, phone_number_id)
    check_sandbox_error(client.post(f"{base(tenant)}/customers/{CUSTOMER}/reactions", json=body), status)
    assert state(client, tenant, phone_number_id) == before


@pytest.mark.parametrize("wa_id", ["abc", "123", "1" * 16, "9" * 300])
def test_a_bad_wa_id_is_refused(client: TestClient, tenant: Tenant, phone_number_id: str, wa_id: str) -> None:
    before = state(client, tenant, phone_number_id)
    body = {"kind": "report", "phone_number_id": phone_number_id}
    check_sandbox_error(client.post(f"{base(tenant)}/customers/{wa_id}/reactions", json=body), 400)
    assert state(client, tenant, phone_number_id) == before


@pytest.mark.parametrize(
    "body",
    [
        {"quality_rating": "PURPLE"},
        {"quality_rating": "red"},
        {"quality_rating": 3},
        {"quality_rating": True},
        {"quality_rating": ["RED"]},
        {"quality_rating": HUGE},
        {"quality_rating": "RED", "flagged": True},
        {},
        [],
    ],
)
def test_bad_ratings_are_refused_and_change_nothing(
    client: TestClient, tenant: Tenant, phone_number_id: str, body: Any
) -> None:
    before = state(client, tenant, phone_number_id)
    check_sandbox_error(client.put(f"{base(tenant)}/phone_numbers/{phone_number_id}/quality", json=body), 400)
    assert state(client, tenant, phone_number_id) == before


def test_a_body_that_is_not_json_is_refused(client: TestClient, tenant: Tenant, phone_number_id: str) -> None:
    url = f"{base(tenant)}/phone_numbers/{phone_number_id}/quality"
    check_sandbox_error(client.put(url, content=b"{not json"), 400)
    check_sandbox_error(client.put(url, content=b""), 400)
    check_sandbox_error(client.put(url, content=b'{"quality_rating": "' + b"R" * 2_000_000 + b'"}'), 413)


def test_unknown_numbers_and_tenants_are_404(client: TestClient, tenant: Tenant, phone_number_id: str) -> None:
    check_sandbox_error(client.get(f"{base(tenant)}/phone_numbers/999/quality"), 404)
    check_sandbox_error(client.put(f"{base(tenant)}/phone_numbers/999/quality", json={"quality_rating": "RED"}), 404)
    check_sandbox_error(client.get(f"{base(tenant)}/phone_numbers/{'9' * 5_000}/quality"), 404)
    for method, path, body in [
        ("GET", f"/phone_numbers/{phone_number_id}/quality", None),
        ("PUT", f"/phone_numbers/{phone_number_id}/quality", {"quality_rating": "RED"}),
        ("POST", f"/customers/{CUSTOMER}/reactions", {"kind": "block", "phone_number_id": phone_number_id}),
    ]:
        check_sandbox_error(client.request(method, f"/_sandbox/tenants/nope{path}", json=body), 404)
    assert client.get(f"{base(tenant)}/phone_numbers/{phone_number_id}/quality").json()["quality_rating"] != "RED"
