"""`GET /_sandbox/tenants/{tenant}/state` is bounded: every list shows at most `limit` rows (default 100), `pages`
gives each list's total, and `next` points at the paged route that lists the rest."""

from __future__ import annotations

from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.testing import check_sandbox_error

LISTS = ("businesses", "wabas", "phone_numbers", "templates", "customers", "windows", "messages", "reviews",
         "incidents", "media")  # fmt: skip


def _write_in(client: TestClient, tenant: Tenant, people: int) -> None:
    for i in range(people):
        answer = client.post(
            f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": f"1650555{i:04d}", "text": {"body": "hi"}}
        )
        assert answer.status_code == 200, answer.text


def test_small_world_is_shown_whole(client: TestClient, tenant: Tenant) -> None:
    _write_in(client, tenant, 3)
    state = client.get(f"/_sandbox/tenants/{tenant.id}/state").json()
    for name in LISTS:
        assert state["pages"][name] == {"total": len(state[name]), "shown": len(state[name])}, name
    assert len(state["customers"]) == len(state["windows"]) == 3


def test_every_list_is_bounded_and_points_at_the_rest(client: TestClient, tenant: Tenant) -> None:
    _write_in(client, tenant, 130)
    base = f"/_sandbox/tenants/{tenant.id}"
    state = client.get(f"{base}/state").json()
    pages = state["pages"]
    assert all(len(state[name]) <= 100 for name in LISTS)
    assert pages["customers"]["total"] == pages["windows"]["total"] == 130
    assert pages["messages"] == {"total": 130, "shown": 100, "next": f"{base}/messages?limit=130"}
    assert len(state["windows"]) == 100 and state["windows"][0]["wa_id"] == "16505550129"  # newest first

    shown = [customer["wa_id"] for customer in state["customers"]]
    assert shown == sorted(shown) and pages["customers"]["shown"] == 100
    rest = client.get(pages["customers"]["next"]).json()["data"]
    assert shown + [customer["wa_id"] for customer in rest] == [f"1650555{i:04d}" for i in range(130)]
    assert len(client.get(pages["messages"]["next"]).json()["data"]) == 130


def test_limit_picks_the_page_size(client: TestClient, tenant: Tenant) -> None:
    _write_in(client, tenant, 12)
    base = f"/_sandbox/tenants/{tenant.id}"
    state = client.get(f"{base}/state", params={"limit": 5}).json()
    assert len(state["customers"]) == len(state["messages"]) == len(state["windows"]) == 5
    assert state["pages"]["customers"]["next"] == f"{base}/customers?limit=5&after={state['customers'][-1]['wa_id']}"
    assert len(client.get(f"{base}/state", params={"limit": 100_000}).json()["customers"]) == 12
    check_sandbox_error(client.get(f"{base}/state", params={"limit": 0}), 400)
