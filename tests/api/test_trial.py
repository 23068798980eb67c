"""The unverified trial over HTTP (SEED-TRIAL-1..6): each refusal is Meta's envelope with its own code, and a
refused message leaves no trace."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.domain.phone_number import PhoneNumber
from sandbox.services.tenants import create_tenant
from sandbox.testing import check_graph_error

TEMPLATE = {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}}
TEXT = {"type": "text", "text": {"body": "Thanks for writing!"}}


@pytest.fixture
def trial(sandbox: Sandbox, client: TestClient) -> Tenant:
    created = create_tenant(sandbox, CreateTenant(name="trial", profile="trial", clock=ConfigureClock(mode="frozen")))
    created.policy.messages.progression = "immediate"
    return created


def send(
    client: TestClient, tenant: Tenant, to: str, body: dict[str, Any], phone_id: str | None = None
) -> httpx.Response:
    phone_id = phone_id or tenant.document()["phone_number_id"]
    return client.post(
        f"/v23.0/{phone_id}/messages",
        headers={"Authorization": f"Bearer {tenant.credentials.access_token}"},
        json={"messaging_product": "whatsapp", "to": to, **body},
    )


def writes(client: TestClient, tenant: Tenant, wa_id: str) -> None:
    response = client.post(
        f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": wa_id, "type": "text", "text": {"body": "Hi"}}
    )
    assert response.status_code == 200, response.text


def untouched(tenant: Tenant, before: int) -> None:
    assert len(tenant.store.messages) == before


def test_trial_starts_at_sign_up_on_the_first_number(client: TestClient, trial: Tenant) -> None:
    """SEED-TRIAL-1: a template goes out before any verification; the trial's state is on the control plane."""
    assert send(client, trial, "15551110001", TEMPLATE).status_code == 200
    state = client.get(f"/_sandbox/tenants/{trial.id}/state").json()
    assert state["trial"]["recipients"] == ["15551110001"]
    assert state["trial"]["phone_number_id"] == trial.document()["phone_number_id"]
    assert trial.policy.trial.enabled


def test_third_business_initiated_recipient_is_131030(client: TestClient, trial: Tenant) -> None:
    """SEED-TRIAL-2: two distinct recipients, as often as wanted; a third answers 131030, synchronously."""
    for to in ["15551110001", "15551110002", "15551110001", "+1 555 111 0002"]:
        assert send(client, trial, to, TEMPLATE).status_code == 200
    before = len(trial.store.messages)
    error = check_graph_error(send(client, trial, "15551110003", TEMPLATE), 131030, 400, subcode=2655007)
    assert "at most 2 distinct" in error["error_data"]["details"]
    untouched(trial, before)
    assert trial.store.trial is not None and trial.store.trial.recipients == {"15551110001", "15551110002"}
    # Free-form outside the window counts against neither limit: it is accepted and fails with 131047, as on Meta.
    assert send(client, trial, "15551110004", TEXT).status_code == 200
    assert trial.store.trial.recipients == {"15551110001", "15551110002"} and not trial.store.trial.customers


def test_eleventh_customer_answered_is_131048(client: TestClient, trial: Tenant) -> None:
    """SEED-TRIAL-3: replies inside the window reach ten distinct customers; the eleventh answers 131048."""
    customers = [f"1555222{n:04d}" for n in range(11)]
    for wa_id in customers:
        writes(client, trial, wa_id)
    for wa_id in customers[:10] + customers[:3]:
        assert send(client, trial, wa_id, TEXT).status_code == 200
    before = len(trial.store.messages)
    error = check_graph_error(send(client, trial, customers[10], TEXT), 131048, 400)
    assert "at most 10 distinct customers" in error["error_data"]["details"]
    untouched(trial, before)
    # A template to an eleventh customer is business-initiated: counted against the recipients instead.
    assert send(client, trial, customers[10], TEMPLATE).status_code == 200


def test_after_30_days_nothing_is_sent_until_verified_and_approved(client: TestClient, trial: Tenant) -> None:
    """SEED-TRIAL-4: past the 30 days every send answers 131031; a verified, approved business sends again."""
    writes(client, trial, "15551110001")
    trial.clock.advance(to=trial.clock.now() + timedelta(days=30))
    before = len(trial.store.messages)
    check_graph_error(send(client, trial, "15551110001", TEMPLATE), 131031, 403)
    business = trial.store.businesses.get(trial.business_id)
    assert business is not None
    business.verification_status = "verified"
    check_graph_error(send(client, trial, "15551110001", TEMPLATE), 131031, 403)
    untouched(trial, before)
    waba = trial.store.wabas.get(trial.waba_id)
    assert waba is not None
    waba.account_review_status = "APPROVED"
    assert send(client, trial, "15551110001", TEMPLATE).status_code == 200


def test_second_number_is_131005(client: TestClient, trial: Tenant) -> None:
    """SEED-TRIAL-5: the trial works only on the WABA's first number."""
    first = trial.store.phone_numbers.get(trial.document()["phone_number_id"])
    assert first is not None
    second = PhoneNumber("990001", first.waba_id, "15550009999", first.verified_name, "1", account_mode="SANDBOX")
    trial.store.phone_numbers.add(second.id, second)
    before = len(trial.store.messages)
    error = check_graph_error(send(client, trial, "15551110001", TEMPLATE, second.id), 131005, 403)
    assert first.id in error["error_data"]["details"]
    untouched(trial, before)
    assert trial.store.trial is not None and not trial.store.trial.recipients


def test_verification_raises_customers_to_1500_and_goes_live(client: TestClient, trial: Tenant) -> None:
    """SEED-TRIAL-6: a verified business answers up to 1,500 customers; `account_mode` turns LIVE."""
    business = trial.store.businesses.get(trial.business_id)
    assert business is not None
    trial.policy.trial.verified_customers = 12
    customers = [f"1555333{n:04d}" for n in range(13)]
    for wa_id in customers:
        writes(client, trial, wa_id)
    for wa_id in customers[:10]:
        assert send(client, trial, wa_id, TEXT).status_code == 200
    check_graph_error(send(client, trial, customers[10], TEXT), 131048, 400)
    business.verification_status = "verified"
    for wa_id in customers[10:12]:
        assert send(client, trial, wa_id, TEXT).status_code == 200
    check_graph_error(send(client, trial, customers[12], TEXT), 131048, 400)
    state = client.get(f"/_sandbox/tenants/{trial.id}/state").json()
    assert {waba["account_mode"] for waba in state["wabas"]} == {"LIVE"}
    assert {phone["account_mode"] for phone in state["phone_numbers"]} == {"LIVE"}


def test_trial_can_be_switched_on_for_any_tenant(client: TestClient, tenant: Tenant) -> None:
    """The `trial` policy group applies to a live tenant too; verified and approved, it has left the trial."""
    patched = client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"trial": {"enabled": True, "recipients": 1}})
    assert patched.status_code == 200, patched.text
    assert send(client, tenant, "15551110001", TEMPLATE).status_code == 200
    assert send(client, tenant, "15551110002", TEMPLATE).status_code == 200
    business = tenant.store.businesses.get(tenant.business_id)
    assert business is not None
    business.verification_status = "pending"
    assert send(client, tenant, "15551110003", TEMPLATE).status_code == 200
    check_graph_error(send(client, tenant, "15551110004", TEMPLATE), 131030, 400)
