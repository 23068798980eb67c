"""Business verification and the WABA's appeal on the control plane (SEED-VERIFY-1..3): submission, the decision
on the tenant clock or forced, what follows from it, and every refusal in the SandboxError envelope (never a 500,
never half-applied)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.context import Sandbox, Tenant
from sandbox.domain.business import Documents
from sandbox.domain.commands import ConfigureClock, CreateTenant, SubmitVerification
from sandbox.services import verification, waba_review
from sandbox.services.tenants import create_tenant
from sandbox.testing import check_graph_error, check_sandbox_error
from tests.conftest import CALLBACK, START

DOCUMENTS = {
    "identity_document": "passport-4711.pdf",
    "business_email": "owner@acme.example",
    "phone_number": "+1 555 0100",
}
TEMPLATE = {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}}


@pytest.fixture
def trial(sandbox: Sandbox, client: TestClient) -> Tenant:
    created = create_tenant(
        sandbox,
        CreateTenant(name="trial", profile="trial", clock=ConfigureClock(mode="frozen"), webhook_url=CALLBACK),
        start=START,
    )
    created.policy.messages.progression = "immediate"
    return created


def _path(tenant: Tenant, tail: str = "") -> str:
    return f"/_sandbox/tenants/{tenant.id}/business/verification{tail}"


def _submit(client: TestClient, tenant: Tenant, documents: dict[str, Any] | None = None) -> Any:
    return client.post(_path(tenant), json={"documents": documents or DOCUMENTS})


def _force(client: TestClient, tenant: Tenant, kind: str, target: str, decision: str, reason: str | None = None) -> Any:
    body = {"kind": kind, "target": target, "decision": decision} | ({"reason": reason} if reason else {})
    answer = client.post(f"/_sandbox/tenants/{tenant.id}/reviews", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _review_decisions(tenant: Tenant) -> list[str]:
    return [
        json.loads(d.body)["entry"][0]["changes"][0]["value"]["decision"]
        for d in tenant.outbox.log(tenant.id)
        if d.field == "account_review_update"
    ]


def _send(client: TestClient, tenant: Tenant, to: str = "15551230001") -> Any:
    return client.post(
        f"/v23.0/{tenant.document()['phone_number_id']}/messages",
        headers={"Authorization": f"Bearer {tenant.credentials.access_token}"},
        json={"messaging_product": "whatsapp", "to": to, **TEMPLATE},
    )


def test_a_submission_is_pending_with_its_decision_due(client: TestClient, trial: Tenant) -> None:
    assert client.get(_path(trial)).json() | {} == {
        "business_id": trial.business_id,
        "status": "not_verified",
        "submitted_at": None,
        "decision_due_at": None,
        "resubmit_opens_at": None,
        "submissions": [],
    }
    answer = _submit(client, trial)
    assert answer.status_code == 202, answer.text
    doc = answer.json()
    assert doc["status"] == "pending" and doc["submitted_at"] == "2026-01-05T09:00:00Z"
    assert doc["decision_due_at"] is not None
    assert doc["submissions"] == [
        {"submitted_at": "2026-01-05T09:00:00Z", "decided_at": None, "decision": None, "reasons": []}
    ]
    assert client.get(_path(trial)).json() == doc
    reviews = client.get(f"/_sandbox/tenants/{trial.id}/reviews").json()["data"]
    assert [(r["kind"], r["target"]) for r in reviews] == [("business_verification", trial.business_id)]


def test_the_decision_falls_due_within_its_bounds(client: TestClient, trial: Tenant) -> None:
    due = _submit(client, trial).json()["decision_due_at"]
    pending = trial.store.decisions[("business_verification", trial.business_id)]
    assert timedelta(minutes=10) <= pending.due_at - START <= timedelta(days=20), due
    trial.clock.advance(to=pending.due_at)
    doc = client.get(_path(trial)).json()
    assert doc["status"] == ("verified" if pending.decision == "APPROVED" else "rejected")
    assert doc["decision_due_at"] is None and doc["submissions"][0]["decision"] == pending.decision


def test_same_seed_same_latency_and_outcome(sandbox: Sandbox) -> None:
    drawn = []
    for name in ("a", "b"):
        tenant = create_tenant(
            sandbox, CreateTenant(name=name, profile="trial", seed=11, clock=ConfigureClock(mode="frozen")), start=START
        )
        verification.submit(tenant, SubmitVerification(Documents("id", "a@b.example", "+15550100")))
        pending = tenant.store.decisions[("business_verification", tenant.business_id)]
        drawn.append((pending.due_at, pending.decision, pending.reason))
    assert drawn[0] == drawn[1]


def test_approval_in_the_trial_goes_live_and_starts_the_waba_review(client: TestClient, trial: Tenant) -> None:
    _submit(client, trial)
    _force(client, trial, "business_verification", trial.business_id, "APPROVED")
    waba = trial.store.wabas.get(trial.waba_id)
    assert waba is not None and waba.account_mode == "LIVE"
    graph = client.get(
        f"/v23.0/{trial.waba_id}",
        params={"fields": "business_verification_status,account_review_status"},
        headers={"Authorization": f"Bearer {trial.credentials.access_token}"},
    ).json()
    assert graph["business_verification_status"] == "verified" and graph["account_review_status"] == "PENDING"
    pending = trial.store.decisions[("waba_review", trial.waba_id)]
    assert timedelta(hours=1) <= pending.due_at - START <= timedelta(days=1)
    assert _review_decisions(trial) == [], "Meta sends no webhook for the business's verification"
    assert _send(client, trial).status_code == 200, "PENDING in the trial: the trial's limits govern"
    _force(client, trial, "waba_review", trial.waba_id, "APPROVED")
    assert _review_decisions(trial) == ["APPROVED"] and waba.account_review_status == "APPROVED"
    assert trial.store.incidents.newest(10) == []


def test_a_rejected_waba_cannot_send_until_its_appeal_is_accepted(client: TestClient, trial: Tenant) -> None:
    _submit(client, trial)
    _force(client, trial, "business_verification", trial.business_id, "APPROVED")
    _force(client, trial, "waba_review", trial.waba_id, "REJECTED")
    before = len(trial.store.messages)
    check_graph_error(_send(client, trial), 131031, 403)
    assert len(trial.store.messages) == before and trial.store.trial is not None and not trial.store.trial.recipients
    appeal = f"/_sandbox/tenants/{trial.id}/wabas/{trial.waba_id}/appeal"
    answer = client.post(appeal)
    assert answer.status_code == 202 and answer.json()["kind"] == "waba_appeal"
    assert "pending already" in check_sandbox_error(client.post(appeal), 409)["message"]
    _force(client, trial, "waba_appeal", trial.waba_id, "REJECTED")
    assert _review_decisions(trial) == ["REJECTED", "REJECTED"]
    client.post(appeal)
    _force(client, trial, "waba_appeal", trial.waba_id, "APPROVED")
    assert _review_decisions(trial) == ["REJECTED", "REJECTED", "APPROVED"]
    assert _send(client, trial).status_code == 200


def test_deferred_keeps_the_waba_pending_and_reviews_it_again(client: TestClient, trial: Tenant) -> None:
    _submit(client, trial)
    _force(client, trial, "business_verification", trial.business_id, "APPROVED")
    _force(client, trial, "waba_review", trial.waba_id, "DEFERRED")
    assert _review_decisions(trial) == ["DEFERRED"]
    assert ("waba_review", trial.waba_id) in trial.store.decisions


def test_a_pending_waba_outside_the_trial_cannot_send(client: TestClient, tenant: Tenant) -> None:
    waba = tenant.store.wabas.get(tenant.waba_id)
    assert waba is not None
    waba.account_review_status = "PENDING"
    check_graph_error(_send(client, tenant), 131031, 403)
    waba_review.start(tenant, waba)
    _force(client, tenant, "waba_review", tenant.waba_id, "APPROVED")
    assert _send(client, tenant).status_code == 200


def test_rejection_blocks_resubmission_for_35_days(client: TestClient, trial: Tenant) -> None:
    _submit(client, trial)
    trial.clock.advance(3600)
    _force(client, trial, "business_verification", trial.business_id, "REJECTED", "MALFORMED_DOCUMENTS")
    doc = client.get(_path(trial)).json()
    assert doc["status"] == "rejected" and doc["submissions"][0]["reasons"] == ["MALFORMED_DOCUMENTS"]
    assert doc["resubmit_opens_at"] == "2026-02-09T09:00:00Z"
    error = check_sandbox_error(_submit(client, trial), 409)
    assert "2026-02-09T09:00:00+00:00" in error["message"]
    trial.clock.advance(to=START + timedelta(days=35) - timedelta(seconds=1))
    check_sandbox_error(_submit(client, trial), 409)
    trial.clock.advance(1)
    assert _submit(client, trial).status_code == 202
    assert len(client.get(_path(trial)).json()["submissions"]) == 2


def test_need_more_info_then_provide_it(client: TestClient, trial: Tenant) -> None:
    _submit(client, trial)
    _force(client, trial, "business_verification", trial.business_id, "NEED_MORE_INFO")
    assert client.get(_path(trial)).json()["status"] == "pending_need_more_info"
    assert _submit(client, trial).json()["status"] == "pending"
    assert ("business_verification", trial.business_id) in trial.store.decisions


def test_a_submission_while_pending_is_refused(client: TestClient, trial: Tenant) -> None:
    first = _submit(client, trial).json()
    error = check_sandbox_error(_submit(client, trial), 409)
    assert "pending already" in error["message"]
    assert client.get(_path(trial)).json() == first, "nothing half-applied"


def test_a_verified_business_cannot_submit(client: TestClient, tenant: Tenant) -> None:
    check_sandbox_error(_submit(client, tenant), 409)


def test_manual_moves(client: TestClient, trial: Tenant) -> None:
    assert client.post(_path(trial, "/start")).json()["status"] == "pending_submission"
    check_sandbox_error(client.post(_path(trial, "/revoke")), 409)
    _submit(client, trial)
    assert client.post(_path(trial, "/make_ineligible")).json()["status"] == "ineligible"
    assert ("business_verification", trial.business_id) not in trial.store.decisions
    assert "moves by hand" in check_sandbox_error(client.post(_path(trial, "/approve")), 400)["message"]


def test_revocation_leaves_live_mode(client: TestClient, tenant: Tenant) -> None:
    assert client.post(_path(tenant, "/revoke")).json()["status"] == "revoked"
    waba = tenant.store.wabas.get(tenant.waba_id)
    assert waba is not None and waba.account_mode == "SANDBOX"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, "documents is required"),
        ({"documents": "passport"}, "documents must be an object"),
        ({"documents": {}}, "missing identity_document, business_email, phone_number"),
        ({"documents": {"identity_document": "p.pdf"}}, "missing business_email, phone_number"),
        ({"documents": DOCUMENTS | {"phone_number": None}}, "missing phone_number"),
        ({"documents": DOCUMENTS | {"business_email": "not-an-email"}}, "business_email must be a plausible e-mail"),
        ({"documents": DOCUMENTS | {"business_email": "a@" + "b" * 300 + ".com"}}, "business_email must be"),
        ({"documents": DOCUMENTS | {"phone_number": "12"}}, "phone_number must be a phone number"),
        ({"documents": DOCUMENTS | {"phone_number": "call me"}}, "phone_number must be a phone number"),
        ({"documents": DOCUMENTS | {"phone_number": 15550100}}, "phone_number must be a phone number"),
        ({"documents": DOCUMENTS | {"identity_document": "x" * 2000}}, "identity_document must be"),
        ({"documents": DOCUMENTS | {"identity_document": 7}}, "identity_document must be"),
        ({"documents": DOCUMENTS | {"identity_document": "   "}}, "must not be blank"),
        ({"documents": DOCUMENTS | {"website": "x"}}, "unknown documents field"),
        ({"documents": DOCUMENTS, "extra": 1}, "unknown field"),
    ],
)
def test_submission_refuses(client: TestClient, trial: Tenant, body: dict[str, Any], words: str) -> None:
    error = check_sandbox_error(client.post(_path(trial), json=body), 400)
    assert words in error["message"]
    assert trial.store.decisions == {} and client.get(_path(trial)).json()["status"] == "not_verified"


def test_malformed_json_and_unknown_tenant(client: TestClient, trial: Tenant) -> None:
    headers = {"Content-Type": "application/json"}
    check_sandbox_error(client.post(_path(trial), content=b"{nope", headers=headers), 400)
    check_sandbox_error(client.post(_path(trial), content=b"[]", headers=headers), 400)
    check_sandbox_error(client.post(_path(trial)), 400)
    check_sandbox_error(client.get("/_sandbox/tenants/nobody/business/verification"), 404)
    check_sandbox_error(client.post("/_sandbox/tenants/nobody/business/verification", json={}), 404)
    check_sandbox_error(client.post("/_sandbox/tenants/nobody/wabas/1/appeal"), 404)


def test_appeal_refuses(client: TestClient, trial: Tenant) -> None:
    base = f"/_sandbox/tenants/{trial.id}/wabas"
    assert "no WhatsApp Business Account" in check_sandbox_error(client.post(f"{base}/999/appeal"), 404)["message"]
    assert "only a REJECTED" in check_sandbox_error(client.post(f"{base}/{trial.waba_id}/appeal"), 409)["message"]


def test_forcing_checks_the_verification_decisions(client: TestClient, trial: Tenant) -> None:
    _submit(client, trial)
    reviews = f"/_sandbox/tenants/{trial.id}/reviews"
    body = {"kind": "business_verification", "target": trial.business_id}
    assert "decides" in check_sandbox_error(client.post(reviews, json=body | {"decision": "MAYBE"}), 400)["message"]
    bad_reason = body | {"decision": "REJECTED", "reason": "BORED"}
    assert "reason must be one of" in check_sandbox_error(client.post(reviews, json=bad_reason), 400)["message"]
    assert client.get(_path(trial)).json()["status"] == "pending"


def test_an_approved_verification_schedules_the_messaging_limit_review(client: TestClient) -> None:
    """§3.6: business verification is a scaling path; TIER_250 → TIER_2K once its review approves."""
    from sandbox.services import decisions

    created = client.post("/_sandbox/tenants", json={"name": "scaling", "profile": "trial"}).json()
    tenant = client.app.state.sandbox.tenants["scaling"]
    documents = {"identity_document": "passport.pdf", "business_email": "a@b.example", "phone_number": "+14155550100"}
    assert client.post("/_sandbox/tenants/scaling/business/verification", json={"documents": documents}).is_success
    forced = client.post(
        "/_sandbox/tenants/scaling/reviews",
        json={"kind": "business_verification", "target": created["business_id"], "decision": "APPROVED"},
    )
    assert forced.status_code == 200, forced.text
    kinds = {pending.kind for pending in decisions.pending_decisions(tenant)}
    assert {"messaging_limit", "waba_review"} <= kinds


def test_documents_may_be_the_contract_s_list(client: TestClient) -> None:
    client.post("/_sandbox/tenants", json={"name": "listed", "profile": "trial"})
    documents = [
        {"type": "identity_document", "value": "passport.pdf"},
        {"type": "business_email", "value": "a@b.example"},
    ]
    refused = client.post("/_sandbox/tenants/listed/business/verification", json={"documents": documents})
    assert refused.status_code == 400 and "phone_number" in refused.json()["error"]["message"]
    documents.append({"type": "phone_number", "value": "+14155550100"})
    accepted = client.post("/_sandbox/tenants/listed/business/verification", json={"documents": documents})
    assert accepted.status_code == 202, accepted.text
    odd = client.post("/_sandbox/tenants/listed/business/verification", json={"documents": [1, 2]})
    assert odd.status_code in (400, 409)
