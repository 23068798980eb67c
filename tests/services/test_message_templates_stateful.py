"""Templates under random creates (valid and not), edits, deletions, archiving, forced decisions and qualities,
sends and clock jumps, over HTTP: a status is always one of Meta's, the WABA's template cap and the hourly rate are
never exceeded, a refusal stores nothing, a template under review is never edited, an approved one at most once per
24 hours and 10 times per 30 days, a deleted name and language stay blocked for 30 days, each status change sends
exactly one `message_template_status_update`, and nothing answers 5xx. Quality and pausing: a RED score pauses an
APPROVED template for 3 hours, then 6, and the third time disables it; a pause ends no earlier (unless unpaused); a
paused template never sends (132015), a disabled one neither (132016)."""

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
        self.approved_edits: dict[str, list[datetime]] = {}
        self.deleted: dict[tuple[str, str], datetime] = {}
        self.phone = self.tenant.document()["phone_number_id"]
        self.pauses: Counter[str] = Counter()
        self.paused_at: dict[str, datetime] = {}
        self.unpaused: set[str] = set()
        self._observe()

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

    @rule(
        name=st.sampled_from(NAMES),
        language=st.sampled_from(LANGUAGES),
        category=st.sampled_from(["UTILITY", "MARKETING"]),
    )
    def create(self, name: str, language: str, category: str) -> None:
        before = len(self.tenant.store.templates)
        body = {"name": name, "language": language, "category": category, "components": [GOOD_BODY]}
        response = self._post(body)
        deleted_at = self.deleted.get((name, language))
        if deleted_at is not None and self.tenant.clock.now() - deleted_at < timedelta(days=30):
            error = response.json()["error"]
            # The hourly creation rate is checked first (80008); otherwise the block answers.
            assert response.status_code == 400 and (error["code"] == 80008 or error["error_subcode"] == 2388023)
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

    def _pick(self, pick: int) -> Any:
        held = sorted(
            (t for t in self.tenant.store.templates if t.status != TemplateStatus.DELETED), key=lambda t: t.id
        )
        return held[pick % len(held)] if held else None

    @rule(pick=st.integers(min_value=0, max_value=20), text=st.sampled_from(["Hello {{1}}, it is ready.", "{{1}}"]))
    def edit(self, pick: int, text: str) -> None:
        template = self._pick(pick)
        if template is None:
            return
        before, components = template.status, list(template.components)
        body = {"components": [GOOD_BODY | {"text": text}]}
        response = self.client.post(f"/v23.0/{template.id}", json=body, headers=self.auth)
        assert response.status_code < 500, response.text
        if before in (TemplateStatus.PENDING, TemplateStatus.IN_APPEAL) or text == "{{1}}":
            assert response.status_code == 400
        if response.status_code != 200:
            assert template.status == before and template.components == components
            return
        if before == TemplateStatus.APPROVED:
            self.approved_edits.setdefault(template.id, []).append(self.tenant.clock.now())
        self.changes[template.id] += 1
        self.known[template.id] = TemplateStatus.PENDING.value
        self._observe()

    @rule(pick=st.integers(min_value=0, max_value=20), by=st.sampled_from(["name", "hsm_id", "hsm_ids"]))
    def delete(self, pick: int, by: str) -> None:
        template = self._pick(pick)
        if template is None:
            return
        params = {
            "name": {"name": template.name},
            "hsm_id": {"name": template.name, "hsm_id": template.id},
            "hsm_ids": {"hsm_ids": f"[{template.id}]"},
        }[by]
        url = f"/v23.0/{self.tenant.waba_id}/message_templates"
        response = self.client.delete(url, params=params, headers=self.auth)
        assert response.status_code == (400 if template.status == TemplateStatus.DISABLED else 200), response.text
        deleted = [t for t in self.tenant.store.templates if t.status == TemplateStatus.PENDING_DELETION]
        for gone in deleted:
            self.deleted.setdefault((gone.name, gone.language), self.tenant.clock.now())
        self._observe()

    @rule(pick=st.integers(min_value=0, max_value=20), action=st.sampled_from(["archive", "unarchive"]))
    def archive(self, pick: int, action: str) -> None:
        template = self._pick(pick)
        if template is None:
            return
        before = template.status
        url = f"/v23.0/{self.tenant.waba_id}/message_templates/{action}"
        answer = self.client.post(url, json={"hsm_ids": template.id}, headers=self.auth).json()
        wanted = TemplateStatus.APPROVED if action == "archive" else TemplateStatus.ARCHIVED
        assert (answer[f"{action}d_templates"] == [template.id]) == (before == wanted)
        self._observe()

    @rule(seconds=st.sampled_from([1, 59, 61, 1800, 3601, 86_400]))
    def advance(self, seconds: int) -> None:
        self.client.post(f"/_sandbox/tenants/{self.tenant.id}/clock/advance", json={"seconds": seconds})
        self._observe()

    @rule(pick=st.integers(min_value=0, max_value=20), score=st.sampled_from(["RED", "RED", "YELLOW", "GREEN"]))
    def force_quality(self, pick: int, score: str) -> None:
        template = self._pick(pick)
        if template is None:
            return
        path = f"/_sandbox/tenants/{self.tenant.id}/templates/{template.id}/quality"
        response = self.client.put(path, json={"score": score})
        assert response.status_code == 200, response.text
        assert template.quality_score == score
        self._observe()

    @rule(pick=st.integers(min_value=0, max_value=20))
    def unpause(self, pick: int) -> None:
        template = self._pick(pick)
        if template is None:
            return
        was = template.status
        response = self.client.post(f"/v23.0/{template.id}/unpause", headers=self.auth)
        assert response.status_code == 200 and response.json()["success"] is (was == "PAUSED")
        if was == "PAUSED":
            self.unpaused.add(template.id)
        self._observe()

    @rule(pick=st.integers(min_value=0, max_value=20))
    def send(self, pick: int) -> None:
        template = self._pick(pick)
        if template is None:
            return
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
    def approved_edits_are_rationed(self) -> None:
        for times in self.approved_edits.values():
            for index, at in enumerate(times):
                later = [other - at for other in times[index:]]
                assert sum(gap < timedelta(days=1) for gap in later) <= 1
                assert sum(gap < timedelta(days=30) for gap in later) <= 10

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
        TemplateMachine, settings=settings(max_examples=40, stateful_step_count=25, deadline=None)
    )
