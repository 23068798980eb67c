"""`POST|DELETE|GET /{phone-number-id}/block_users` (docs/reference/meta-messaging.md §8.3, META-BLOCK): per-user
results, Meta's limits, the 24-hour rule, what a block stops, paging that refuses a list changed under it, and
bodies fuzzed for a 500."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.domain.block_users import BLOCK_USERS_MAX, BLOCKLIST_MAX, BlockedUser, Blocklist
from sandbox.testing import check_graph_error


def path(phone_number_id: str) -> str:
    return f"/v23.0/{phone_number_id}/block_users"


def body(*users: str, user_ids: tuple[str, ...] = ()) -> dict[str, Any]:
    entries = [{"user": user} for user in users] + [{"user_id": user_id} for user_id in user_ids]
    return {"messaging_product": "whatsapp", "block_users": entries}


def write(client: TestClient, tenant: Tenant, wa_id: str) -> Any:
    return client.post(
        f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": wa_id, "type": "text", "text": {"body": "Hi!"}}
    )


def block(client: TestClient, auth: dict[str, str], phone_number_id: str, payload: Any) -> Any:
    return client.post(path(phone_number_id), headers=auth, json=payload)


def unblock(client: TestClient, auth: dict[str, str], phone_number_id: str, payload: Any) -> Any:
    return client.request("DELETE", path(phone_number_id), headers=auth, json=payload)


def send_text(client: TestClient, auth: dict[str, str], phone_number_id: str, to: str) -> Any:
    message = {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "hello"}}
    return client.post(f"/v23.0/{phone_number_id}/messages", headers=auth, json=message)


def test_a_user_who_wrote_today_is_blocked_and_can_no_longer_be_messaged(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    assert write(client, tenant, "16505551234").status_code == 200
    response = block(client, auth, phone_number_id, body("+1 650-555-1234"))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "messaging_product": "whatsapp",
        "block_users": {"added_users": [{"input": "+1 650-555-1234", "wa_id": "16505551234"}]},
    }
    check_graph_error(send_text(client, auth, phone_number_id, "16505551234"), 130403, 400)
    refused = write(client, tenant, "16505551234")
    assert refused.status_code == 409 and "blocked" in refused.text


def test_unblocking_restores_both_directions(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    write(client, tenant, "16505551234")
    block(client, auth, phone_number_id, body("16505551234"))
    response = unblock(client, auth, phone_number_id, body("16505551234"))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "messaging_product": "whatsapp",
        "block_users": {"removed_users": [{"input": "16505551234", "wa_id": "16505551234"}]},
    }
    assert send_text(client, auth, phone_number_id, "16505551234").status_code == 200
    assert write(client, tenant, "16505551234").status_code == 200


def test_some_users_fail_with_their_reasons_and_the_rest_are_blocked(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    write(client, tenant, "16505551234")
    own = tenant.document()["display_phone_number"]
    response = block(client, auth, phone_number_id, body("16505551234", "16505559999", own, "12"))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["block_users"]["added_users"] == [{"input": "16505551234", "wa_id": "16505551234"}]
    failed = {item["input"]: item["errors"] for item in answer["block_users"]["failed_users"]}
    assert set(failed) == {"16505559999", own, "12"}
    for errors in failed.values():
        assert [error["code"] for error in errors] == [139100] and errors[0]["error_data"]["details"]
    assert "last 24 hours" in failed["16505559999"][0]["error_data"]["details"]
    assert answer["errors"]["code"] == 139100 and answer["errors"]["type"] == "OAuthException"
    listed = client.get(path(phone_number_id), headers=auth).json()
    assert [item["wa_id"] for item in listed["data"]] == ["16505551234"]


def test_a_window_closed_24_hours_later_means_the_user_can_no_longer_be_blocked(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    write(client, tenant, "16505551234")
    tenant.clock.advance(24 * 3600 + 1)
    answer = block(client, auth, phone_number_id, body("16505551234")).json()
    assert answer["block_users"]["added_users"] == []
    assert answer["block_users"]["failed_users"][0]["input"] == "16505551234"


def test_a_user_is_blocked_by_bsuid_and_listed_by_it(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    write(client, tenant, "16505551234")
    user_id = tenant.store.customers.get("16505551234").user_id
    answer = block(client, auth, phone_number_id, body(user_ids=(user_id, "US.0000000000"))).json()
    assert answer["block_users"]["added_users"] == [{"input": user_id, "user_id": user_id}]
    assert answer["block_users"]["failed_users"][0]["input"] == "US.0000000000"
    listed = client.get(path(phone_number_id), headers=auth).json()["data"]
    assert listed == [{"messaging_product": "whatsapp", "input": user_id, "user_id": user_id}]
    check_graph_error(send_text(client, auth, phone_number_id, "16505551234"), 130403, 400)


def test_blocking_twice_and_unblocking_someone_never_blocked_are_no_ops(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    write(client, tenant, "16505551234")
    for _ in range(2):
        assert block(client, auth, phone_number_id, body("16505551234")).json()["block_users"]["added_users"]
    assert len(client.get(path(phone_number_id), headers=auth).json()["data"]) == 1
    removed = unblock(client, auth, phone_number_id, body("16505550000")).json()["block_users"]["removed_users"]
    assert removed == [{"input": "16505550000", "wa_id": "16505550000"}]


def test_requests_outside_meta_s_bounds_are_refused_whole(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    write(client, tenant, "16505551234")
    too_many = body(*(f"1650555{index:04d}" for index in range(BLOCK_USERS_MAX + 1)))
    for payload in (
        too_many,
        {"messaging_product": "whatsapp", "block_users": []},
        {"messaging_product": "whatsapp", "block_users": [{"user": "1", "user_id": "US.1"}]},
        {"messaging_product": "whatsapp", "block_users": [{"user": 16505551234}]},
        {"messaging_product": "whatsapp", "block_users": [{"user": "1" * 300}]},
        {"block_users": [{"user": "16505551234"}]},
    ):
        check_graph_error(block(client, auth, phone_number_id, payload), 100, 400)
    check_graph_error(block(client, auth, phone_number_id, {"messaging_product": "whatsapp"}), 131008, 400)
    assert client.get(path(phone_number_id), headers=auth).json()["data"] == []


def test_a_full_blocklist_refuses_the_whole_request(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    listed = tenant.store.blocklists.setdefault(phone_number_id, Blocklist())
    now = tenant.clock.now()
    listed.users = {str(10**11 + index): BlockedUser(str(10**11 + index), None, now) for index in range(BLOCKLIST_MAX)}
    write(client, tenant, "16505551234")
    check_graph_error(block(client, auth, phone_number_id, body("16505551234")), 139101, 400)
    assert "16505551234" not in listed


def test_the_list_pages_and_a_cursor_from_before_a_change_is_139102(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    users = [f"1650555{index:04d}" for index in range(5)]
    for user in users:
        write(client, tenant, user)
    block(client, auth, phone_number_id, body(*users))
    first = client.get(path(phone_number_id), headers=auth, params={"limit": 2}).json()
    assert [item["wa_id"] for item in first["data"]] == users[:2]
    after = first["paging"]["cursors"]["after"]
    second = client.get(path(phone_number_id), headers=auth, params={"limit": 2, "after": after}).json()
    assert [item["wa_id"] for item in second["data"]] == users[2:4]
    unblock(client, auth, phone_number_id, body(users[0]))
    stale = client.get(path(phone_number_id), headers=auth, params={"limit": 2, "after": after})
    check_graph_error(stale, 139102, 400)
    check_graph_error(client.get(path(phone_number_id), headers=auth, params={"after": "nonsense"}), 100, 400)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["user", "user_id", "x"]), inner),
        max_leaves=12,
    ),
    method=st.sampled_from(["POST", "DELETE"]),
)
def test_no_body_makes_a_500(
    client: TestClient, auth: dict[str, str], phone_number_id: str, payload: Any, method: str
) -> None:
    request = {"messaging_product": "whatsapp", "block_users": payload}
    response = client.request(method, path(phone_number_id), headers=auth, json=request)
    assert response.status_code in (200, 400), response.text
