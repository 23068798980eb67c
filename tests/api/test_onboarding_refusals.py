"""Every refusal on the way to a registered number (issue 12's "done means") answers Meta's code, subcode and
envelope, and changes nothing: the number, the WABA's list and the OTP outbox are read again after each refusal.

The refusals already proven in test_onboarding.py (a bad country code, a number on the app and the SEED-NUMBER-2
delay, a wrong code, a wrong PIN, the eleventh register, send before registration, a WABA not set up) are not
repeated here.
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.context import Sandbox, Tenant
from sandbox.domain.business import BusinessVerificationStatus
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.domain.waba import WhatsAppBusinessAccount
from sandbox.services.tenants import create_tenant
from sandbox.testing import check_graph_error

FIELDS = (
    "status,code_verification_status,name_status,new_name_status,verified_name,new_display_name,is_pin_enabled,"
    "certificate,new_certificate,display_phone_number,last_onboarded_time"
)
NUMBER = {"cc": "1", "phone_number": "4155551234", "verified_name": "Lucky Shrub"}
REGISTER = {"messaging_product": "whatsapp", "pin": "123456"}
SEND = {"messaging_product": "whatsapp", "to": "16505550000", "type": "text", "text": {"body": "hi"}}
SMS = {"code_method": "SMS", "language": "en_US"}


class World:
    """One `blank` tenant driven over HTTP, and the reads that show whether a refusal changed anything."""

    def __init__(self, client: TestClient, tenant: Tenant) -> None:
        self.client, self.tenant = client, tenant
        self.headers = {"Authorization": f"Bearer {tenant.credentials.access_token}"}

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.client.post(f"/v23.0/{path}", headers=self.headers, **kwargs)

    def add(self, waba_id: str | None = None, **body: str) -> Any:
        return self.post(f"{waba_id or self.tenant.waba_id}/phone_numbers", json=NUMBER | body)

    def added(self, **body: str) -> str:
        response = self.add(**body)
        assert response.status_code == 200, response.text
        phone_id: str = response.json()["id"]
        return phone_id

    def verified(self, **body: str) -> str:
        phone_id = self.added(**body)
        assert self.post(f"{phone_id}/request_code", params=SMS).status_code == 200
        assert self.post(f"{phone_id}/verify_code", params={"code": self.otp()[0]["code"]}).status_code == 200
        return phone_id

    def registered(self, **body: str) -> str:
        phone_id = self.verified(**body)
        assert self.post(f"{phone_id}/register", json=REGISTER).status_code == 200
        return phone_id

    def otp(self) -> list[dict[str, Any]]:
        data: list[dict[str, Any]] = self.client.get(f"/_sandbox/tenants/{self.tenant.id}/otp").json()["data"]
        return data

    def numbers(self, waba_id: str | None = None) -> list[dict[str, Any]]:
        listed = self.client.get(
            f"/v23.0/{waba_id or self.tenant.waba_id}/phone_numbers", headers=self.headers, params={"fields": FIELDS}
        )
        assert listed.status_code == 200, listed.text
        data: list[dict[str, Any]] = listed.json()["data"]
        return data

    def snapshot(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        return self.numbers(), self.otp(), len(self.tenant.store.phone_numbers)

    def advance(self, seconds: float) -> None:
        moved = self.client.post(f"/_sandbox/tenants/{self.tenant.id}/clock/advance", json={"seconds": seconds})
        assert moved.status_code == 200, moved.text

    def move(self, phone_id: str, action: str) -> None:
        moved = self.client.post(f"/_sandbox/tenants/{self.tenant.id}/phone_numbers/{phone_id}/{action}")
        assert moved.status_code == 200, moved.text

    def unverify_business(self) -> None:
        business = self.tenant.store.businesses.get(self.tenant.business_id)
        assert business is not None
        business.verification_status = BusinessVerificationStatus.NOT_VERIFIED.value


@pytest.fixture
def world(sandbox: Sandbox, client: TestClient) -> World:
    created = create_tenant(sandbox, CreateTenant(name="blank", profile="blank", clock=ConfigureClock(mode="frozen")))
    created.policy.messages.progression = "immediate"
    return World(client, created)


def refused(response: Any, code: int, status: int = 400, **kwargs: Any) -> dict[str, Any]:
    return check_graph_error(response, code, status, **kwargs)


@pytest.mark.parametrize(
    "body",
    [
        {"phone_number": "1234"},  # too short for any plan
        {"phone_number": "1005551234"},  # a NANP area code cannot start with 0 or 1
        {"cc": "44", "phone_number": "0000000000"},
        {"cc": "1", "phone_number": "4155551234" * 2},
        {"cc": "+", "phone_number": "4155551234"},
        {"cc": "1", "phone_number": "٤١٥٥٥٥١٢٣٤"},  # Arabic-Indic digits are not Meta's digits
    ],
)
def test_implausible_numbers_are_100(world: World, body: dict[str, str]) -> None:
    before = world.snapshot()
    error = refused(world.add(**body), 100)
    assert error["error_user_title"] == "Invalid Phone Number"
    assert world.snapshot() == before


def test_a_number_on_another_waba_of_the_business_is_100(world: World) -> None:
    tenant = world.tenant
    other = WhatsAppBusinessAccount(tenant.ids.node_id(), "Second WABA", tenant.business_id)
    tenant.store.wabas.add(other.id, other)
    world.added()
    before = world.snapshot()
    error = refused(world.add(other.id), 100)
    assert error["error_user_title"] == "Phone Number In Use"
    assert world.numbers(other.id) == [] and world.snapshot() == before
    # The same number written differently is the same number.
    refused(world.add(other.id, cc="1", phone_number="+1 (415) 555-1234"), 100)
    assert world.numbers(other.id) == []


def test_the_unverified_portfolio_holds_two_numbers(world: World) -> None:
    world.unverify_business()
    world.added()
    world.added(phone_number="4155551235")
    before = world.snapshot()
    error = refused(world.add(phone_number="4155551236"), 100)
    assert error["error_user_title"] == "Phone Number Limit Reached"
    assert world.snapshot() == before


def test_the_unverified_portfolio_registers_two_numbers(world: World) -> None:
    """Numbers added while the business was verified: after it loses verification only two of them register."""
    first, second, third = (world.verified(phone_number=f"415555123{index}") for index in range(3))
    world.unverify_business()
    for phone_id in (first, second):
        assert world.post(f"{phone_id}/register", json=REGISTER).status_code == 200
    before = world.snapshot()
    error = refused(world.post(f"{third}/register", json=REGISTER), 100)
    assert "maximum number of registered phone numbers" in error["message"] + error.get("error_data", {}).get(
        "details", ""
    )
    assert world.snapshot() == before
    assert world.post(f"{first}/deregister").status_code == 200
    assert world.post(f"{third}/register", json=REGISTER).status_code == 200


def test_an_expired_code_is_100_and_a_new_one_verifies(world: World) -> None:
    phone_id = world.added()
    assert world.post(f"{phone_id}/request_code", params=SMS).status_code == 200
    code = world.otp()[0]["code"]
    world.advance(world.tenant.policy.numbers.code_ttl_seconds)
    before = world.snapshot()
    error = refused(world.post(f"{phone_id}/verify_code", params={"code": code}), 100)
    assert error["type"] == "GraphMethodException" and error["error_user_title"] == "Verification Failed"
    assert world.snapshot() == before
    assert world.post(f"{phone_id}/request_code", params=SMS).status_code == 200
    assert world.post(f"{phone_id}/verify_code", params={"code": world.otp()[0]["code"]}).status_code == 200


def test_a_code_never_requested_is_100(world: World) -> None:
    phone_id = world.added()
    before = world.snapshot()
    refused(world.post(f"{phone_id}/verify_code", json={"code": "123456"}), 100)
    assert world.snapshot() == before


def test_too_many_wrong_codes_is_4_2446079(world: World) -> None:
    phone_id = world.added()
    world.post(f"{phone_id}/request_code", params=SMS)
    code = world.otp()[0]["code"]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(world.tenant.policy.numbers.code_attempts):
        refused(world.post(f"{phone_id}/verify_code", params={"code": wrong}), 100)
    before = world.snapshot()
    error = refused(world.post(f"{phone_id}/verify_code", params={"code": code}), 4, subcode=2446079)
    assert error["is_transient"] is True
    assert world.snapshot() == before


def test_a_resend_within_the_throttle_is_4_2446079_and_sends_nothing(world: World) -> None:
    phone_id = world.added()
    assert world.post(f"{phone_id}/request_code", params=SMS).status_code == 200
    before = world.snapshot()
    error = refused(world.post(f"{phone_id}/request_code", params=SMS), 4, subcode=2446079)
    assert error["is_transient"] is True
    assert world.snapshot() == before
    world.advance(world.tenant.policy.numbers.code_resend_seconds)
    assert world.post(f"{phone_id}/request_code", json=SMS | {"code_method": "VOICE"}).status_code == 200
    assert [entry["code_method"] for entry in world.otp()] == ["VOICE", "SMS"]


def test_a_verified_number_takes_no_code(world: World) -> None:
    phone_id = world.verified()
    before = world.snapshot()
    refused(world.post(f"{phone_id}/request_code", params=SMS), 100)
    refused(world.post(f"{phone_id}/verify_code", params={"code": "123456"}), 100)
    assert world.snapshot() == before


@pytest.mark.parametrize(
    "params",
    [
        {"code_method": "FAX", "language": "en_US"},
        {"code_method": "SMS", "language": "english"},
        {"code_method": "SMS"},
    ],
)
def test_bad_request_code_parameters_are_100(world: World, params: dict[str, str]) -> None:
    phone_id = world.added()
    before = world.snapshot()
    refused(world.post(f"{phone_id}/request_code", params=params), 100)
    assert world.snapshot() == before


@pytest.mark.parametrize("pin", ["12345", "1234567", "abcdef", "12 456"])
def test_a_malformed_pin_is_100(world: World, pin: str) -> None:
    phone_id = world.verified()
    before = world.snapshot()
    refused(world.post(f"{phone_id}/register", json=REGISTER | {"pin": pin}), 100)
    refused(world.post(phone_id, json={"pin": pin}), 100)
    assert world.snapshot() == before


def test_a_wrong_pin_changes_nothing_and_a_new_pin_is_needed_after_a_change(world: World) -> None:
    phone_id = world.registered()
    assert world.post(f"{phone_id}/deregister").status_code == 200
    before = world.snapshot()
    refused(world.post(f"{phone_id}/register", json=REGISTER | {"pin": "654321"}), 133005)
    assert world.snapshot() == before
    assert world.post(phone_id, json={"pin": "654321"}).status_code == 200
    refused(world.post(f"{phone_id}/register", json=REGISTER), 133005)
    assert world.post(f"{phone_id}/register", json=REGISTER | {"pin": "654321"}).status_code == 200


def test_an_expired_verification_needs_a_new_code_133006(world: World) -> None:
    phone_id = world.verified()
    world.move(phone_id, "expire_verification")
    before = world.snapshot()
    refused(world.post(f"{phone_id}/register", json=REGISTER), 133006)
    assert world.snapshot() == before


def test_the_eleventh_deregister_in_72_hours_is_133016(world: World) -> None:
    phone_id = world.registered()
    for index in range(9):
        path = "register" if index % 2 == 0 else "deregister"
        assert world.post(f"{phone_id}/{path}", json=REGISTER if path == "register" else None).status_code == 200
    [number] = world.numbers()
    assert number["status"] == "CONNECTED"
    before = world.snapshot()
    refused(world.post(f"{phone_id}/deregister"), 133016)
    assert world.snapshot() == before
    world.advance(72 * 3600)
    assert world.post(f"{phone_id}/deregister").status_code == 200


def test_deregistering_a_number_never_registered_is_100(world: World) -> None:
    phone_id = world.verified()
    before = world.snapshot()
    refused(world.post(f"{phone_id}/deregister"), 100)
    assert world.snapshot() == before


def test_a_banned_number_neither_registers_nor_sends(world: World) -> None:
    phone_id = world.registered()
    world.move(phone_id, "ban")
    before = world.snapshot()
    error = refused(world.post(f"{phone_id}/register", json=REGISTER), 131031, 403)
    assert "BANNED" in error.get("error_data", {}).get("details", "") + error["message"]
    refused(world.post(f"{phone_id}/messages", json=SEND), 133010)
    refused(world.post(f"{phone_id}/deregister"), 100)
    assert world.snapshot() == before
    assert before[0][0]["status"] == "BANNED"


def test_a_deregistered_number_does_not_send(world: World) -> None:
    phone_id = world.registered()
    assert world.post(f"{phone_id}/deregister").status_code == 200
    refused(world.post(f"{phone_id}/messages", json=SEND), 133010)


@pytest.mark.parametrize("name", ["   ", "x" * 513])
def test_a_display_name_out_of_bounds_is_100(world: World, name: str) -> None:
    phone_id = world.added()
    before = world.snapshot()
    refused(world.post(phone_id, json={"new_display_name": name}), 100)
    refused(world.add(phone_number="4155551299", verified_name=name), 100)
    assert world.snapshot() == before


def test_a_display_name_change_under_review_is_100_and_changes_nothing(world: World) -> None:
    phone_id = world.added()
    before = world.snapshot()
    error = refused(world.post(phone_id, json={"new_display_name": "Lucky Shrub Garden"}), 100)
    assert error["error_user_title"] == "Name Review In Progress"
    # A PIN sent with the refused name is not set either: every check comes before any change.
    refused(world.post(phone_id, json={"new_display_name": "Garden", "pin": "111111"}), 100)
    assert world.snapshot() == before


def test_a_change_of_an_approved_name_keeps_the_name_until_its_review(world: World) -> None:
    phone_id = world.registered()
    tenant = world.tenant
    approve = {"kind": "display_name", "target": phone_id, "decision": "APPROVED"}
    assert world.client.post(f"/_sandbox/tenants/{tenant.id}/reviews", json=approve).status_code == 200
    assert world.post(phone_id, json={"new_display_name": "Lucky Shrub Garden"}).status_code == 200
    [number] = world.numbers()
    assert (number["verified_name"], number["new_display_name"], number["new_name_status"]) == (
        "Lucky Shrub",
        "Lucky Shrub Garden",
        "PENDING_REVIEW",
    )
    before = world.snapshot()
    refused(world.post(phone_id, json={"new_display_name": "Third Name"}), 100)
    assert world.snapshot() == before
    decline = approve | {"decision": "REJECTED"}
    assert world.client.post(f"/_sandbox/tenants/{tenant.id}/reviews", json=decline).status_code == 200
    [number] = world.numbers()
    assert (number["verified_name"], number["name_status"], number["new_name_status"]) == (
        "Lucky Shrub",
        "APPROVED",
        "DECLINED",
    )
