"""The 24-hour customer-service window (SEED-MSG-1) as a Hypothesis state machine driven through HTTP.

Each example gets a fresh tenant on the conftest app (frozen clock, immediate progression, webhooks recorded).
The model knows when each customer last wrote; a free-form send must end `failed` with 131047 exactly when the
model says the window was closed at send time, templates always go through, and every wamid's statuses reach
the webhook receiver in a legal order.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from starlette.testclient import TestClient

from sandbox.testing import RecordingTransport, settle

CUSTOMERS = ("16505550101", "16505550102", "447700900123")
WINDOW = timedelta(hours=24)
# Legal successors of a status as the webhook receiver sees them (META-STATUS; `delivered` may be skipped).
NEXT = {None: {"sent", "failed"}, "sent": {"delivered", "read", "failed"}, "delivered": {"read"}}
_tenants = itertools.count(1)


class StatusLog:
    """The statuses one phone number's webhooks carried, per wamid, read incrementally from the transport."""

    def __init__(self, transport: RecordingTransport, phone_number_id: str) -> None:
        self.transport = transport
        self.phone_number_id = phone_number_id
        self.read_up_to = len(transport.posted)
        self.by_wamid: dict[str, list[dict[str, Any]]] = {}

    def update(self) -> dict[str, list[dict[str, Any]]]:
        posted = self.transport.posted
        for item in posted[self.read_up_to :]:
            value = item.json()["entry"][0]["changes"][0]["value"]
            if value.get("metadata", {}).get("phone_number_id") == self.phone_number_id:
                for status in value.get("statuses", []):
                    self.by_wamid.setdefault(status["id"], []).append(status)
        self.read_up_to = len(posted)
        return self.by_wamid


class WindowMachine(RuleBasedStateMachine):
    def __init__(self, client: TestClient, transport: RecordingTransport) -> None:
        super().__init__()
        self.client = client
        self.transport = transport
        name = f"window-{next(_tenants)}"
        created = client.post(
            "/_sandbox/tenants",
            json={
                "name": name,
                "clock": {"mode": "frozen"},
                "webhook": {"url": "http://receiver.test/window"},
            },
        )
        assert created.status_code == 201, created.text
        self.doc = created.json()
        self.tenant = name
        patched = client.patch(f"/_sandbox/tenants/{name}/policy", json={"progression": "immediate"})
        assert patched.status_code == 200, patched.text
        self.headers = {"Authorization": f"Bearer {self.doc['access_token']}"}
        self.phone = self.doc["phone_number_id"]
        self.now = timedelta(0)  # model time since the tenant was created
        self.last_inbound: dict[str, timedelta] = {}
        self.expect_failed: dict[str, bool] = {}
        self.inbound: list[str] = []
        self.log = StatusLog(transport, self.phone)

    def window_open(self, wa_id: str) -> bool:
        last = self.last_inbound.get(wa_id)
        return last is not None and self.now - last < WINDOW

    def _send(self, wa_id: str, body: dict[str, Any]) -> dict[str, Any]:
        to = f"+{wa_id}"
        response = self.client.post(
            f"/v23.0/{self.phone}/messages",
            headers=self.headers,
            json={"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **body},
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["contacts"] == [{"input": to, "wa_id": wa_id}]
        return dict(answer["messages"][0])

    @rule(wa_id=st.sampled_from(CUSTOMERS), text=st.text(min_size=1, max_size=40).filter(str.strip))
    def send_text(self, wa_id: str, text: str) -> None:
        sent = self._send(wa_id, {"type": "text", "text": {"body": text}})
        assert "message_status" not in sent
        self.expect_failed[sent["id"]] = not self.window_open(wa_id)

    @rule(wa_id=st.sampled_from(CUSTOMERS))
    def send_template(self, wa_id: str) -> None:
        sent = self._send(
            wa_id, {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}}
        )
        assert sent["message_status"] == "accepted"
        self.expect_failed[sent["id"]] = False

    @rule(wa_id=st.sampled_from(CUSTOMERS), text=st.text(min_size=1, max_size=40))
    def customer_writes(self, wa_id: str, text: str) -> None:
        response = self.client.post(
            f"/_sandbox/tenants/{self.tenant}/inbound", json={"from": wa_id, "type": "text", "text": {"body": text}}
        )
        assert response.status_code == 200, response.text
        self.inbound.append(response.json()["message"]["id"])
        self.last_inbound[wa_id] = self.now

    # Biased towards the edges: exactly 24 hours, and a second either side of it.
    @rule(
        hours=st.one_of(st.sampled_from([23, 24]), st.integers(min_value=0, max_value=48)),
        seconds=st.sampled_from([0, 0, 1, 3599]),
    )
    def advance_clock(self, hours: int, seconds: int) -> None:
        step = timedelta(hours=hours, seconds=seconds)
        response = self.client.post(
            f"/_sandbox/tenants/{self.tenant}/clock/advance", json={"seconds": step.total_seconds()}
        )
        assert response.status_code == 200, response.text
        self.now += step

    @precondition(lambda self: self.inbound)
    @rule(data=st.data())
    def mark_read(self, data: st.DataObject) -> None:
        wamid = data.draw(st.sampled_from(self.inbound))
        response = self.client.post(
            f"/v23.0/{self.phone}/messages",
            headers=self.headers,
            json={"messaging_product": "whatsapp", "status": "read", "message_id": wamid},
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"success": True}

    @invariant()
    def free_form_fails_iff_window_closed(self) -> None:
        settle(self.client)
        seen = self.log.update()
        for wamid, should_fail in self.expect_failed.items():
            statuses = seen.get(wamid, [])
            names = [status["status"] for status in statuses]
            if should_fail:
                assert names == ["failed"], (wamid, names)
                assert [error["code"] for error in statuses[0]["errors"]] == [131047]
            else:
                assert "failed" not in names, (wamid, statuses)
                assert names == ["sent", "delivered", "read"], (wamid, names)

    @invariant()
    def receiver_sees_legal_order(self) -> None:
        for wamid, statuses in self.log.update().items():
            previous = None
            for status in statuses:
                assert status["status"] in NEXT.get(previous, set()), (wamid, [s["status"] for s in statuses])
                previous = status["status"]

    def teardown(self) -> None:
        self.client.delete(f"/_sandbox/tenants/{self.tenant}")


def test_customer_service_window_through_http(client: TestClient, transport: RecordingTransport) -> None:
    run_state_machine_as_test(
        lambda: WindowMachine(client, transport),
        settings=settings(settings.default, stateful_step_count=20),
    )
