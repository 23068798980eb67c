"""`GET /{phone-number-id}` and `GET /{waba-id}/phone_numbers`: default fields, `fields=` projection, cursor paging."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.domain.phone_number import PHONE_NUMBER_DEFAULT_FIELDS, PhoneNumber
from sandbox.testing import check_graph_error


def add_numbers(tenant: Tenant, count: int) -> list[str]:
    ids = []
    for index in range(count):
        phone = PhoneNumber(
            id=f"10000000000000{index}",
            waba_id=tenant.waba_id,
            display_phone_number=f"1555000{index:04d}",
            verified_name=f"Branch {index}",
            country_calling_code="1",
        )
        tenant.store.phone_numbers.add(phone.id, phone)
        ids.append(phone.id)
    return ids


def test_default_fields(client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str) -> None:
    response = client.get(f"/v23.0/{phone_number_id}", headers=auth)
    assert response.status_code == 200
    document = response.json()
    assert list(document) == list(PHONE_NUMBER_DEFAULT_FIELDS)
    assert document["id"] == phone_number_id
    assert document["code_verification_status"] == "VERIFIED"
    assert document["platform_type"] == "CLOUD_API"
    assert document["throughput"] == {"level": "STANDARD"}
    assert document["quality_rating"] in ("GREEN", "YELLOW", "RED", "UNKNOWN")
    assert document["display_phone_number"].startswith("+1 ")
    assert document["webhook_configuration"] == {"application": "http://receiver.test/webhook"}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("id", ["id"]),
        ("display_phone_number", ["display_phone_number", "id"]),
        ("throughput", ["throughput", "id"]),
        ("verified_name,quality_rating", ["verified_name", "quality_rating", "id"]),
        ("quality_rating, verified_name ", ["quality_rating", "verified_name", "id"]),
        ("status,account_mode,name_status", ["status", "account_mode", "name_status", "id"]),
        ("throughput{level},id", ["throughput", "id"]),
        ("whatsapp_business_manager_messaging_limit", ["whatsapp_business_manager_messaging_limit", "id"]),
        ("health_status,is_official_business_account", ["health_status", "is_official_business_account", "id"]),
        ("no_such_field", ["id"]),
        ("", list(PHONE_NUMBER_DEFAULT_FIELDS)),
    ],
)
def test_fields_projection(
    client: TestClient, auth: dict[str, str], phone_number_id: str, fields: str, expected: list[str]
) -> None:
    response = client.get(f"/v23.0/{phone_number_id}", headers=auth, params={"fields": fields})
    assert response.status_code == 200, response.text
    assert list(response.json()) == expected


def test_account_mode_and_messaging_limit(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    document = client.get(
        f"/v23.0/{phone_number_id}", headers=auth, params={"fields": "account_mode,status,throughput"}
    ).json()
    assert document["account_mode"] == "LIVE"
    assert document["status"] == "CONNECTED"


def test_list_phone_numbers(client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str) -> None:
    response = client.get(f"/v23.0/{tenant.waba_id}/phone_numbers", headers=auth)
    assert response.status_code == 200
    listing = response.json()
    assert set(listing) == {"data", "paging"}
    assert [item["id"] for item in listing["data"]] == [phone_number_id]
    assert list(listing["data"][0]) == list(PHONE_NUMBER_DEFAULT_FIELDS)
    assert set(listing["paging"]["cursors"]) == {"before", "after"}


def test_list_with_fields(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    listing = client.get(
        f"/v23.0/{tenant.waba_id}/phone_numbers", headers=auth, params={"fields": "id,display_phone_number"}
    ).json()
    assert [list(item) for item in listing["data"]] == [["display_phone_number", "id"]]


def test_paging_walks_every_number_once(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    extra = add_numbers(tenant, 4)
    seen: list[str] = []
    params = {"limit": "2", "fields": "id"}
    pages = 0
    while True:
        page = client.get(f"/v23.0/{tenant.waba_id}/phone_numbers", headers=auth, params=params).json()
        if not page["data"]:
            break
        seen += [item["id"] for item in page["data"]]
        pages += 1
        params = {"limit": "2", "fields": "id", "after": page["paging"]["cursors"]["after"]}
    assert seen == [phone_number_id, *extra]
    assert pages == 3


def test_paging_before_goes_back(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    extra = add_numbers(tenant, 4)
    first = client.get(f"/v23.0/{tenant.waba_id}/phone_numbers", headers=auth, params={"limit": "2"}).json()
    second = client.get(
        f"/v23.0/{tenant.waba_id}/phone_numbers",
        headers=auth,
        params={"limit": "2", "after": first["paging"]["cursors"]["after"]},
    ).json()
    assert [item["id"] for item in second["data"]] == extra[1:3]
    back = client.get(
        f"/v23.0/{tenant.waba_id}/phone_numbers",
        headers=auth,
        params={"limit": "2", "before": second["paging"]["cursors"]["before"]},
    ).json()
    assert [item["id"] for item in back["data"]] == [phone_number_id, extra[0]]


def test_numbers_of_another_waba_are_not_listed(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    phone = PhoneNumber(
        id="200000000000001",
        waba_id="999",
        display_phone_number="15550009999",
        verified_name="Elsewhere",
        country_calling_code="1",
    )
    tenant.store.phone_numbers.add(phone.id, phone)
    listing = client.get(f"/v23.0/{tenant.waba_id}/phone_numbers", headers=auth).json()
    assert phone.id not in [item["id"] for item in listing["data"]]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "-1"},
        {"limit": "ten"},
        {"after": "%%%"},
        {"after": "bm90IGFuIGluZGV4"},
        {"before": "!"},
        {"after": "aW5kZXg6LTU"},
        {"limit": "²"},
    ],
)
def test_bad_paging_parameters(
    client: TestClient, tenant: Tenant, auth: dict[str, str], params: dict[str, str]
) -> None:
    response = client.get(f"/v23.0/{tenant.waba_id}/phone_numbers", headers=auth, params=params)
    check_graph_error(response, 100, 400)


def test_phone_numbers_edge_on_a_phone_number_is_unknown(
    client: TestClient, auth: dict[str, str], phone_number_id: str
) -> None:
    response = client.get(f"/v23.0/{phone_number_id}/phone_numbers", headers=auth)
    check_graph_error(response, 100, 400)


def test_waba_node(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    document = client.get(f"/v23.0/{tenant.waba_id}", headers=auth).json()
    assert document["id"] == tenant.waba_id
    assert {"name", "currency", "timezone_id", "message_template_namespace"} <= set(document)
