"""`GET /_sandbox/tenants/{tenant}/ledger`: totals, entries, the credit view (SEED-MSG-4) and its errors."""

from __future__ import annotations

from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.domain.pricing import Charge
from sandbox.testing import check_sandbox_error

START_ISO = "2026-01-05T09:00:00Z"


def _charge(tenant: Tenant, micros: int, category: str = "marketing") -> None:
    tenant.store.ledger.record(
        Charge(
            tenant.clock.now(), "wamid.x", "1", "16505551234", "1", "north_america", "PMP", category, True, micros, None
        )
    )


def test_an_empty_ledger(client: TestClient, tenant: Tenant) -> None:
    response = client.get(f"/_sandbox/tenants/{tenant.id}/ledger")
    assert response.status_code == 200
    assert response.json() == {
        "view": "usd",
        "total": {"charges": 0, "billable": 0, "amount_usd": 0.0},
        "by_category": {},
        "by_month": {},
        "entries": [],
        "entries_kept": 0,
        "open_conversations": 0,
    }


def test_the_credit_view_shows_credits_instead_of_usd(client: TestClient, tenant: Tenant) -> None:
    _charge(tenant, 80_000_000)
    path = f"/_sandbox/tenants/{tenant.id}/ledger"
    usd = client.get(path).json()
    assert usd["total"]["amount_usd"] == 80.0 and usd["entries"][0]["at"] == START_ISO
    credits = client.get(path, params={"view": "credits"}).json()
    assert credits["view"] == "credits" and credits["credit_usd"] == 2.0
    assert credits["total"] == {"charges": 1, "billable": 1, "amount_credits": 40.0}
    assert credits["by_month"]["2026-01"]["amount_credits"] == 40.0
    assert "amount_usd" not in credits["entries"][0]
    # The knob re-prices the projection; what is stored stays in USD.
    assert client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"pricing": {"credit_usd": 4}}).status_code == 200
    assert client.get(path, params={"view": "credits"}).json()["total"]["amount_credits"] == 20.0
    assert client.get(path).json()["total"]["amount_usd"] == 80.0


def test_limit_pages_the_newest_entries_first(client: TestClient, tenant: Tenant) -> None:
    for micros in (1, 2, 3):
        _charge(tenant, micros)
    entries = client.get(f"/_sandbox/tenants/{tenant.id}/ledger", params={"limit": 2}).json()["entries"]
    assert [entry["amount_usd"] for entry in entries] == [0.000003, 0.000002]


def test_ledger_length_is_a_knob_and_totals_survive_it(client: TestClient, tenant: Tenant) -> None:
    for micros in (1, 2, 3):
        _charge(tenant, micros)
    response = client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"pricing": {"ledger_entries": 1}})
    assert response.status_code == 200
    ledger = client.get(f"/_sandbox/tenants/{tenant.id}/ledger").json()
    assert ledger["entries_kept"] == 1 and ledger["total"]["charges"] == 3


def test_a_bad_view_limit_or_tenant_is_refused(client: TestClient, tenant: Tenant) -> None:
    path = f"/_sandbox/tenants/{tenant.id}/ledger"
    assert (
        "view must be one of usd, credits"
        in check_sandbox_error(client.get(path, params={"view": "eur"}), 400)["message"]
    )
    check_sandbox_error(client.get(path, params={"limit": "0"}), 400)
    check_sandbox_error(client.get("/_sandbox/tenants/nobody/ledger"), 404)


def test_bad_pricing_knobs_are_refused(client: TestClient, tenant: Tenant) -> None:
    path = f"/_sandbox/tenants/{tenant.id}/policy"
    for bad in (
        {"pricing": {"model": "notification"}},
        {"pricing": {"credit_usd": 0}},
        {"pricing": {"free_tier_conversations": -1}},
        {"pricing": {"ledger_entries": 0}},
    ):
        check_sandbox_error(client.patch(path, json=bad), 400)
    assert tenant.policy.pricing.model == "auto"


def test_the_tenant_state_shows_the_ledger(client: TestClient, tenant: Tenant) -> None:
    _charge(tenant, 25_000)
    state = client.get(f"/_sandbox/tenants/{tenant.id}/state").json()
    assert state["ledger"]["total"] == {"charges": 1, "billable": 1, "amount_usd": 0.025}
    assert state["policy"]["pricing"]["credit_usd"] == 2.0
