"""The fields of `GET /{phone-number-id}` derived from state (meta-lifecycle.md §1.4), `filtering=` on
`GET /{waba-id}/phone_numbers` (§1.3, §7), and deleting a number, which Meta offers in WhatsApp Manager only (§2.12)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.domain.phone_number import PhoneNumber, PhoneNumberStatus
from sandbox.testing import check_graph_error

ALL_FIELDS = (
    "verified_name,code_verification_status,display_phone_number,quality_rating,quality_score,platform_type,"
    "throughput,is_on_biz_app,webhook_configuration,name_status,status,account_mode,is_official_business_account,"
    "is_pin_enabled,is_preverified_number,messaging_limit_tier,whatsapp_business_manager_messaging_limit,"
    "health_status,last_onboarded_time,country_code,country_dial_code"
)


def _number(tenant: Tenant, suffix: int, **fields: Any) -> PhoneNumber:
    phone = PhoneNumber(f"30000000000000{suffix}", tenant.waba_id, f"1555000{suffix:04d}", f"Branch {suffix}", "1")
    for name, value in fields.items():
        setattr(phone, name, value)
    tenant.store.phone_numbers.add(phone.id, phone)
    return phone


def test_every_documented_field(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    document = client.get(f"/v23.0/{phone_number_id}", headers=auth, params={"fields": ALL_FIELDS}).json()
    assert list(document) == [*ALL_FIELDS.split(","), "id"]
    assert document["last_onboarded_time"] == "2026-01-05T09:00:00+0000"
    assert document["country_code"] == "US" and document["country_dial_code"] == "1"
    assert document["is_preverified_number"] is False
    assert document["platform_type"] == "CLOUD_API" and document["throughput"] == {"level": "STANDARD"}


@pytest.mark.parametrize("status", [PhoneNumberStatus.PENDING, PhoneNumberStatus.DISCONNECTED])
def test_a_number_not_registered_has_no_platform(
    client: TestClient, tenant: Tenant, auth: dict[str, str], status: PhoneNumberStatus
) -> None:
    phone = _number(tenant, 1, status=status.value)
    document = client.get(f"/v23.0/{phone.id}", headers=auth, params={"fields": "platform_type,throughput"}).json()
    assert document == {"platform_type": "NOT_APPLICABLE", "throughput": {"level": "NOT_APPLICABLE"}, "id": phone.id}


def listed(client: TestClient, tenant: Tenant, auth: dict[str, str], rules: Any) -> list[str]:
    params = {"fields": "id", "filtering": rules if isinstance(rules, str) else json.dumps(rules)}
    response = client.get(f"/v23.0/{tenant.waba_id}/phone_numbers", headers=auth, params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def test_filtering(client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str) -> None:
    sandbox_number = _number(tenant, 2, account_mode="SANDBOX")
    official = _number(tenant, 3, is_official_business_account=True)
    rule = {"field": "account_mode", "operator": "EQUAL", "value": "SANDBOX"}
    assert listed(client, tenant, auth, [rule]) == [sandbox_number.id]
    assert listed(client, tenant, auth, [rule | {"operator": "NOT_EQUAL"}]) == [phone_number_id, official.id]
    # The tier is the portfolio's (docs/messaging-limits.md): every number of the live world shows TIER_UNLIMITED.
    tiers = {"field": "messaging_limit_tier", "operator": "IN", "value": ["TIER_2K", "TIER_UNLIMITED"]}
    assert listed(client, tenant, auth, [tiers]) == [phone_number_id, sandbox_number.id, official.id]
    assert listed(client, tenant, auth, [tiers | {"value": ["TIER_2K"]}]) == []
    badge = {"field": "is_official_business_account", "operator": "EQUAL", "value": True}
    assert listed(client, tenant, auth, [tiers, badge]) == [official.id]
    assert listed(client, tenant, auth, [badge | {"value": "true"}]) == [official.id]
    assert listed(client, tenant, auth, []) == [phone_number_id, sandbox_number.id, official.id]


@pytest.mark.parametrize(
    "rules",
    [
        "account_mode=SANDBOX",
        {"field": "account_mode", "operator": "EQUAL", "value": "SANDBOX"},
        [{"field": "status", "operator": "EQUAL", "value": "CONNECTED"}],
        [{"field": "account_mode", "operator": "LIKE", "value": "SAND"}],
        [{"field": "account_mode", "operator": "EQUAL"}],
        [{"field": "account_mode", "operator": "IN", "value": "SANDBOX"}],
        [{"field": "account_mode", "operator": "EQUAL", "value": ["SANDBOX"]}],
        [{"field": "account_mode", "operator": "EQUAL", "value": {"a": 1}}],
        [{"field": "account_mode", "operator": "EQUAL", "value": "LIVE"}] * 11,
        ["account_mode"],
    ],
)
def test_a_bad_filter_is_graphs_100(client: TestClient, tenant: Tenant, auth: dict[str, str], rules: Any) -> None:
    params = {"filtering": rules if isinstance(rules, str) else json.dumps(rules)}
    response = client.get(f"/v23.0/{tenant.waba_id}/phone_numbers", headers=auth, params=params)
    check_graph_error(response, 100, 400)


def test_deleting_a_number_is_not_a_graph_operation(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    """Meta deletes numbers in WhatsApp Manager only: Graph answers DELETE as an unsupported request."""
    error = check_graph_error(client.delete(f"/v23.0/{phone_number_id}", headers=auth), 100, 400, subcode=33)
    assert error["message"].startswith(f"Unsupported delete request. Object with ID '{phone_number_id}'")
    assert tenant.store.phone_numbers.get(phone_number_id) is not None
    assert client.get(f"/v23.0/{phone_number_id}", headers=auth).status_code == 200
