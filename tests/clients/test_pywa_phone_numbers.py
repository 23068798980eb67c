"""pywa 4.5.0's phone-number methods, unchanged, against a real sandbox server on loopback: a `blank` tenant onboards
a number through pywa alone (plus the OTP outbox on the control plane), and every refusal reaches pywa as the typed
error of Meta's code.

pywa's phone-number surface: `create_phone_number`, `request_verification_code` and `verify_phone_number` (both send
their parameters in the query string), `register_phone_number`, `deregister_phone_number`, `update_display_name`
(`new_display_name` with `messaging_product`), `get_business_phone_number(s)`; it has no method that sends `pin`
alone (two-step verification is set through `register_phone_number`). The profile and settings methods are in
test_pywa.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from pywa import WhatsApp, errors

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import running_server

pytestmark = pytest.mark.server

CUSTOMER = "16505551234"
PIN = "246810"


@dataclass
class Blank:
    wa: WhatsApp
    tenant: Tenant
    url: str

    def control(self, method: str, path: str, json: dict[str, object] | None = None) -> httpx.Response:
        response = httpx.request(method, f"{self.url}/_sandbox/tenants/{self.tenant.id}{path}", json=json)
        assert response.status_code == 200, response.text
        return response

    def code(self) -> str:
        code: str = self.control("GET", "/otp").json()["data"][0]["code"]
        return code


@pytest.fixture
def blank() -> Iterator[Blank]:
    sandbox = Sandbox(Settings(seed=12))
    tenant = create_tenant(
        sandbox,
        CreateTenant(name="pywa-blank", profile="blank", clock=ConfigureClock(mode="frozen")),
        start=datetime(2026, 1, 5, 9, tzinfo=UTC),
    )
    tenant.policy.messages.progression = "immediate"
    session = httpx.Client(timeout=10)
    wa = WhatsApp(token=tenant.credentials.access_token, session=session, waba_id=tenant.waba_id, api_version="23.0")
    with running_server(sandbox) as url:
        session.base_url = httpx.URL(f"{url}/v23.0/")
        yield Blank(wa, tenant, url)
        session.close()


def test_pywa_onboards_a_number_on_a_blank_tenant(blank: Blank) -> None:
    wa = blank.wa
    assert list(wa.get_business_phone_numbers()) == []
    created = wa.create_phone_number(country_calling_code=1, phone_number="4155551234", verified_name="Lucky Shrub")
    phone = wa.get_business_phone_number(phone_id=created.id)
    assert (phone.display_phone_number, phone.verified_name) == ("+1 415-555-1234", "Lucky Shrub")
    assert (phone.status, phone.code_verification_status, phone.name_status) == (
        "PENDING",
        "NOT_VERIFIED",
        "PENDING_REVIEW",
    )
    with pytest.raises(errors.WhatsAppError) as unregistered:
        wa.send_message(CUSTOMER, "hi", sender=created.id)
    assert unregistered.value.code == 133010

    assert wa.request_verification_code(code_method="SMS", language_code="en_US", phone_id=created.id)
    assert wa.verify_phone_number(blank.code(), phone_id=created.id)
    assert wa.register_phone_number(PIN, data_localization_region="DE", phone_id=created.id)
    blank.control("POST", "/reviews", json={"kind": "display_name", "target": created.id, "decision": "APPROVED"})
    # The certificate issued at approval takes effect at the next register (SEED-NUMBER-5).
    assert wa.register_phone_number(PIN, phone_id=created.id)
    phone = wa.get_business_phone_number(phone_id=created.id)
    assert (phone.status, phone.code_verification_status, phone.name_status) == ("CONNECTED", "VERIFIED", "APPROVED")
    assert [number.id for number in wa.get_business_phone_numbers()] == [created.id]

    assert wa.update_display_name("Lucky Shrub Garden", phone_id=created.id)
    phone = wa.get_business_phone_number(phone_id=created.id)
    assert (phone.verified_name, phone.new_name_status) == ("Lucky Shrub", "PENDING_REVIEW")
    with pytest.raises(errors.WhatsAppError) as in_review:
        wa.update_display_name("Another Name", phone_id=created.id)
    assert in_review.value.code == 100

    customer = blank.control("POST", "/inbound", json={"from": CUSTOMER, "type": "text", "text": {"body": "Hi"}})
    assert customer.json()["message"]["id"]
    assert wa.send_message(CUSTOMER, "Welcome!", sender=created.id).id.startswith("wamid.")

    assert wa.deregister_phone_number(phone_id=created.id)
    assert wa.get_business_phone_number(phone_id=created.id).status == "DISCONNECTED"
    with pytest.raises(errors.WhatsAppError) as deregistered:
        wa.send_message(CUSTOMER, "still there?", sender=created.id)
    assert deregistered.value.code == 133010


def test_pywa_gets_meta_errors_for_every_wrong_step(blank: Blank) -> None:
    wa = blank.wa
    with pytest.raises(errors.WhatsAppError) as bad_country:
        wa.create_phone_number(country_calling_code=999, phone_number="4155551234", verified_name="Lucky Shrub")
    assert bad_country.value.code == 100
    assert list(wa.get_business_phone_numbers()) == []

    created = wa.create_phone_number(country_calling_code="1", phone_number="14155551234", verified_name="Lucky")
    with pytest.raises(errors.WhatsAppError) as unverified:
        wa.register_phone_number(PIN, phone_id=created.id)
    assert unverified.value.code == 133006

    assert wa.request_verification_code(code_method="VOICE", language_code="en", phone_id=created.id)
    with pytest.raises(errors.ToManyAPICalls) as throttled:
        wa.request_verification_code(code_method="VOICE", language_code="en", phone_id=created.id)
    assert throttled.value.code == 4
    wrong = "000000" if blank.code() != "000000" else "111111"
    with pytest.raises(errors.WhatsAppError) as wrong_code:
        wa.verify_phone_number(wrong, phone_id=created.id)
    assert wrong_code.value.code == 100
    assert wa.get_business_phone_number(phone_id=created.id).code_verification_status == "NOT_VERIFIED"

    assert wa.verify_phone_number(blank.code(), phone_id=created.id)
    assert wa.register_phone_number(PIN, phone_id=created.id)
    with pytest.raises(errors.WhatsAppError) as wrong_pin:
        wa.register_phone_number("135790", phone_id=created.id)
    assert wrong_pin.value.code == 133005
    for _ in range(3):
        assert wa.deregister_phone_number(phone_id=created.id)
        assert wa.register_phone_number(PIN, phone_id=created.id)
    # Ten calls in 72 hours, counting the refused one: the eleventh is refused and changes nothing.
    assert wa.deregister_phone_number(phone_id=created.id)
    with pytest.raises(errors.RegistrationOrDeregistrationFailed) as eleventh:
        wa.register_phone_number(PIN, phone_id=created.id)
    assert eleventh.value.code == 133016
    assert wa.get_business_phone_number(phone_id=created.id).status == "DISCONNECTED"
