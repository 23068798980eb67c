"""`GET .../customers` is paged (issue 15 item 5): `limit` and an `after` cursor, in `wa_id` order."""

from __future__ import annotations

from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.services.customers import customer_for


def test_customers_come_in_pages_with_a_cursor(client: TestClient, tenant: Tenant) -> None:
    numbers = [f"1650555{n:04d}" for n in range(250)]
    for wa_id in reversed(numbers):
        customer_for(tenant, wa_id)
    path = f"/_sandbox/tenants/{tenant.id}/customers"
    first = client.get(path).json()
    assert [c["wa_id"] for c in first["data"]] == numbers[:100]
    seen, url = [], f"{path}?limit=30"
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.text
        seen += [c["wa_id"] for c in page.json()["data"]]
        url = page.json().get("paging", {}).get("next")
    assert seen == numbers
    last = client.get(path, params={"limit": 1000, "after": numbers[-2]}).json()
    assert [c["wa_id"] for c in last["data"]] == numbers[-1:]
    assert last["paging"]["cursors"] == {"before": numbers[-1], "after": numbers[-1]}
    assert "next" not in last["paging"]


def test_a_bad_cursor_is_refused(client: TestClient, tenant: Tenant) -> None:
    response = client.get(f"/_sandbox/tenants/{tenant.id}/customers", params={"after": "x" * 10_000})
    assert response.status_code == 400, response.text
    assert "after" in response.text
