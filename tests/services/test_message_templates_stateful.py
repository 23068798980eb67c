"""Templates under random creates (valid and not), forced decisions and clock jumps, over HTTP: a status is always
one of Meta's, the WABA's template cap and the hourly rate are never exceeded, a refusal stores nothing, each status
change sends exactly one `message_template_status_update`, and nothing answers 5xx. Quality and pausing: a RED
score pauses an APPROVED template for 3 hours, then 6, and the third time disables it; a pause ends no earlier
(unless unpaused); a paused template never sends (132015), a disabled one neither (132016)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.domain.template import TemplateStatus
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import RecordingTransport, settle

CAP, PER_HOUR = 6, 4
NAMES = ["alpha", "beta", "gamma", "delta"]
LANGUAGES = ["en_US", "pt_BR"]
GOOD_BODY = {"type": "BODY", "text": "Hi {{1}}, your code is ready.", "example": {"body_text": [["Ana"]]}}
BAD_COMPONENTS = [
    [{"type": "BODY", "text": "{{1}} starts it", "example": {"body_text": [["x"]]}}],
    [{"type": "BODY", "text": "Hi {{1}} there"}],
    [{"type": "BODY", "text": "x" * 2000}],
    [{"type": "HEADER", "format": "AUDIO"}, GOOD_BODY],
    "not a list",
]


class TemplateMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.sandbox = Sandbox(Settings(seed=11))
        self.tenant = create_tenant(
            self.sandbox,
            CreateTenant(name="t", clock=ConfigureClock(mode="frozen"), webhook_url="http://receiver.test/hook"),
        )
        self.tenant.policy.patch({"templates": {"per_waba_verified": CAP, "creations_per_hour": PER_HOUR}})
        self.transport = RecordingTransport()
        self.client = TestClient(create_app(self.sandbox, transport=self.transport)).__enter__()
        self.auth = {"Authorization": f"Bearer {self.tenant.credentials.access_token}"}
        self.known: dict[str, str] = {t.id: t.status for t in self.tenant.store.templates}
        self.changes: Counter[str] = Counter()
        self.phone = self.tenant.document()["phone_number_id"]
        self.pauses: Counter[str] = Counter()
        self.paused_at: dict[str, datetime] = {}
        self.unpaused: set[str] = set()

    def teardown(self) -> None:
        self.client.__exit__(None, None, None)

    def _post(self, body: Any) -> Any:
        response = self.client.post(f"/v23.0/{self.tenant.waba_id}/message_templates", json=body, headers=self.auth)
        assert response.status_code < 500, response.text
        return response

    def _observe(self) -> None:
        now = self.tenant.clock.now()
        for template in self.tenant.store.templates:
            before = self.known.get(template.id)
            if before is not None and before != template.status:
                self.changes[template.id] += 1
                self._check_pause(template.id, before, template.status, now)
            self.known[template.id] = template.status

    def _check_pause(self, template_id: str, before: str, after: str, now: datetime) -> None:
        if after == "PAUSED":
            self.pauses[template_id] += 1
            self.paused_at[template_id] = now
            assert self.pauses[template_id] <= 2
        elif after == "DISABLED":
            assert self.pauses[template_id] == 2
        elif before == "PAUSED" and after == "APPROVED" and template_id not in self.unpaused:
            hours = 3 if self.pauses[template_id] == 1 else 6
            assert now - self.paused_at[template_id] >= timedelta(hours=hours)
        self.unpaused.discard(template_id)

    def _pick(self, pick: int) -> Any:
        templates = sorted(self.tenant.store.templates, key=lambda t: t.id)
        return templates[pick % len(templates)]

    @rule(
        name=st.sampled_from(NAMES),
        language=st.sampled_from(LANGUAGES),
        category=st.sampled_from(["UTILITY", "MARKETING"]),
    )
    def create(self, name: str, language: str, category: str) -> None:
        before = len(self.tenant.store.templates)
        body = {"name": name, "language": language, "category": category, "components": [GOOD_BODY]}
        response = self._post(body)
        if response.status_code == 200:
            assert response.json()["status"] in ("PENDING", "APPROVED")
            assert len(self.tenant.store.templates) == before + 1
        else:
            assert response.json()["error"]["code"] in (100, 80008)
            assert len(self.tenant.store.templates) == before
        self._observe()

    @rule(components=st.sampled_from(BAD_COMPONENTS))
    def create_invalid(self, components: Any) -> None:
        before = len(self.tenant.store.templates)
        response = self._post({"name": "broken", "language": "en_US", "category": "UTILITY", "components": components})
        assert response.status_code == 400 and response.json()["error"]["code"] == 100
        assert len(self.tenant.store.templates) == before

    @rule(
        pick=st.integers(min_value=0, max_value=20),
        decision=st.sampled_from(["APPROVED", "REJECTED"]),
        reason=st.sampled_from([None, "PROMOTIONAL", "SCAM", "MARKETING", "AUTHENTICATION"]),
    )
    def force(self, pick: int, decision: str, reason: str | None) -> None:
        pending = sorted(target for kind, target in self.tenant.store.decisions if kind == "template")
        target = pending[pick % len(pending)] if pending else "1"
        body = {"kind": "template", "target": target, "decision": decision} | ({"reason": reason} if reason else {})
        response = self.client.post(f"/_sandbox/tenants/{self.tenant.id}/reviews", json=body)
        assert response.status_code == (200 if pending else 404), response.text
        self._observe()

    @rule(seconds=st.sampled_from([1, 59, 61, 1800, 3601, 86_400]))
    def advance(self, seconds: int) -> None:
        self.client.post(f"/_sandbox/tenants/{self.tenant.id}/clock/advance", json={"seconds": seconds})
        self._observe()

    @rule(pick=st.integers(min_value=0, max_value=20), score=st.sampled_from(["RED", "RED", "YELLOW", "GREEN"]))
    def force_quality(self, pick: int, score: str) -> None:
        template = self._pick(pick)
        path = f"/_sandbox/tenants/{self.tenant.id}/templates/{template.id}/quality"
        response = self.client.put(path, json={"score": score})
        assert response.status_code == 200, response.text
        assert template.quality_score == score
        self._observe()

    @rule(pick=st.integers(min_value=0, max_value=20))
    def unpause(self, pick: int) -> None:
        template = self._pick(pick)
        was = template.status
        response = self.client.post(f"/v23.0/{template.id}/unpause", headers=self.auth)
        assert response.status_code == 200 and response.json()["success"] is (was == "PAUSED")
        if was == "PAUSED":
            self.unpaused.add(template.id)
        self._observe()

    @rule(pick=st.integers(min_value=0, max_value=20))
    def send(self, pick: int) -> None:
        template = self._pick(pick)
        parameters = [{"type": "text", "text": "Ana"}] if template.placeholders("BODY") else []
        body = {
            "messaging_product": "whatsapp",
            "to": "447700900123",
            "type": "template",
            "template": {
                "name": template.name,
                "language": {"code": template.language},
                "components": [{"type": "body", "parameters": parameters}],
            },
        }
        response = self.client.post(f"/v23.0/{self.phone}/messages", headers=self.auth, json=body)
        assert response.status_code < 500, response.text
        expected = {"APPROVED": None, "PAUSED": 132015, "DISABLED": 132016}.get(template.status, 132001)
        if expected is None:
            assert response.status_code == 200, response.text
        else:
            assert response.json()["error"]["code"] == expected

    @invariant()
    def statuses_are_meta_s(self) -> None:
        assert all(template.status in tuple(TemplateStatus) for template in self.tenant.store.templates)

    @invariant()
    def the_cap_holds(self) -> None:
        held = [t for t in self.tenant.store.templates if t.waba_id == self.tenant.waba_id]
        assert sum(t.counts_toward_limit for t in held) <= CAP
        created = sorted(t.created_at for t in held if t.created_at is not None)
        for index, at in enumerate(created):
            within = [other for other in created[index:] if (other - at).total_seconds() < 3600]
            assert len(within) <= PER_HOUR

    @invariant()
    def one_webhook_per_status_change(self) -> None:
        settle(self.client)
        sent: Counter[str] = Counter()
        for payload in self.transport.payloads():
            for entry in payload["entry"]:
                for change in entry["changes"]:
                    if change["field"] == "message_template_status_update":
                        sent[str(change["value"]["message_template_id"])] += 1
        assert sent == +self.changes


def test_templates_under_random_operations() -> None:
    run_state_machine_as_test(
        TemplateMachine, settings=settings(max_examples=25, stateful_step_count=25, deadline=None)
    )
