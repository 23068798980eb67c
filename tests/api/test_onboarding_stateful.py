"""Random orders of the onboarding calls on one number: never a 5xx, every refusal a Graph error, and the number
always in states Meta can show."""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.domain.phone_number import CodeVerificationStatus, NameStatus, PhoneNumberStatus
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import RecordingTransport

PINS = st.sampled_from(["123456", "654321"])


class Onboarding(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.sandbox = Sandbox(Settings(seed=11))
        self.client = TestClient(create_app(self.sandbox, transport=RecordingTransport()))
        self.tenant = create_tenant(
            self.sandbox, CreateTenant(name="h", profile="blank", clock=ConfigureClock(mode="frozen"))
        )
        self.auth = {"Authorization": f"Bearer {self.tenant.credentials.access_token}"}
        self.phone: str | None = None

    def _post(self, path: str, **kwargs: Any) -> None:
        response = self.client.post(f"/v23.0/{path}", headers=self.auth, **kwargs)
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            error = response.json()["error"]
            assert isinstance(error["code"], int) and error["message"].startswith("(#")

    @rule(number=st.sampled_from(["4155551234", "14155551235", "999"]))
    def add(self, number: str) -> None:
        body = {"cc": "1", "phone_number": number, "verified_name": "Lucky Shrub"}
        response = self.client.post(f"/v23.0/{self.tenant.waba_id}/phone_numbers", headers=self.auth, json=body)
        assert response.status_code in (200, 400), response.text
        if response.status_code == 200 and self.phone is None:
            self.phone = response.json()["id"]

    @rule(method=st.sampled_from(["SMS", "VOICE"]))
    def request_code(self, method: str) -> None:
        if self.phone:
            self._post(f"{self.phone}/request_code", params={"code_method": method, "language": "en_US"})

    @rule(right=st.booleans())
    def verify_code(self, right: bool) -> None:
        if not self.phone:
            return
        sent = self.client.get(f"/_sandbox/tenants/{self.tenant.id}/otp").json()["data"]
        code = sent[0]["code"] if right and sent else "000000"
        self._post(f"{self.phone}/verify_code", params={"code": code})

    @rule(pin=PINS)
    def register(self, pin: str) -> None:
        if self.phone:
            self._post(f"{self.phone}/register", json={"messaging_product": "whatsapp", "pin": pin})

    @rule()
    def deregister(self) -> None:
        if self.phone:
            self._post(f"{self.phone}/deregister")

    @rule(pin=PINS)
    def set_pin(self, pin: str) -> None:
        if self.phone:
            self._post(self.phone, json={"pin": pin})

    @rule(name=st.sampled_from(["Lucky Shrub", "Jasper's Market", ""]))
    def new_display_name(self, name: str) -> None:
        if self.phone:
            self._post(self.phone, json={"new_display_name": name})

    @rule(decision=st.sampled_from(["APPROVED", "REJECTED"]))
    def review(self, decision: str) -> None:
        if self.phone:
            body = {"kind": "display_name", "target": self.phone, "decision": decision}
            response = self.client.post(f"/_sandbox/tenants/{self.tenant.id}/reviews", json=body)
            assert response.status_code in (200, 404), response.text

    @rule(seconds=st.sampled_from([30, 700, 4 * 86400, 15 * 86400]))
    def advance(self, seconds: int) -> None:
        self.client.post(f"/_sandbox/tenants/{self.tenant.id}/clock/advance", json={"seconds": seconds})

    @invariant()
    def states_meta_can_show(self) -> None:
        for phone in self.tenant.store.phone_numbers:
            assert phone.status in PhoneNumberStatus.__members__
            assert phone.code_verification_status in CodeVerificationStatus.__members__
            assert phone.name_status in NameStatus.__members__ and phone.new_name_status in NameStatus.__members__
            assert not (phone.registered and phone.code_verification_status == "NOT_VERIFIED")

    def teardown(self) -> None:
        self.client.close()


Onboarding.TestCase.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)
TestOnboarding = Onboarding.TestCase
