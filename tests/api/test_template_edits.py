"""`POST /{template-id}` over HTTP (meta-lifecycle.md §4.3; SEED-TEMPLATE-3, -4, -5): who may be edited and how
often, Meta's code and envelope with nothing changed, and the edit back to review with one webhook per move."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.testing import RecordingTransport, check_graph_error

BODY = {"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped.", "example": {"body_text": [["Ana", "42"]]}}
NEW_BODY = {"type": "BODY", "text": "Hello {{1}}, order {{2}} is on its way.", "example": {"body_text": [["Ana", "7"]]}}
TEMPLATE = {"name": "order_update", "language": "en_US", "category": "UTILITY", "components": [BODY]}
HOUR = 3600


def create(client: TestClient, tenant: Tenant, auth: dict[str, str], **changes: Any) -> str:
    response = client.post(f"/v23.0/{tenant.waba_id}/message_templates", json=TEMPLATE | changes, headers=auth)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def decide(client: TestClient, tenant: Tenant, template_id: str, decision: str = "APPROVED", **extra: Any) -> None:
    body = {"kind": "template", "target": template_id, "decision": decision} | extra
    response = client.post(f"/_sandbox/tenants/{tenant.id}/reviews", json=body)
    assert response.status_code == 200, response.text


def advance(client: TestClient, tenant: Tenant, seconds: float) -> None:
    assert client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": seconds}).status_code == 200


def edit(client: TestClient, auth: dict[str, str], template_id: str, body: Any) -> Any:
    return client.post(f"/v23.0/{template_id}", json=body, headers=auth)


def events(transport: RecordingTransport) -> list[str]:
    return [
        change["value"]["event"]
        for payload in transport.payloads()
        for entry in payload["entry"]
        for change in entry["changes"]
        if change["field"] == "message_template_status_update"
    ]


def approved(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> str:
    template_id = create(client, tenant, auth)
    decide(client, tenant, template_id)
    return template_id


def test_an_approved_template_is_edited_back_to_review_and_reviewed_again(
    client: TestClient, tenant: Tenant, auth: dict[str, str], transport: RecordingTransport
) -> None:
    template_id = approved(client, tenant, auth)
    response = edit(client, auth, template_id, {"components": [NEW_BODY]})
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "id": template_id, "name": "order_update", "category": "UTILITY"}
    template = tenant.store.templates.get(template_id)
    assert template.status == "PENDING" and template.components == [NEW_BODY]
    assert ("template", template_id) in tenant.store.decisions
    decide(client, tenant, template_id)
    assert template.status == "APPROVED"
    assert events(transport) == ["APPROVED", "PENDING", "APPROVED"]
    edited = [
        change["value"]
        for payload in transport.payloads()
        for entry in payload["entry"]
        for change in entry["changes"]
        if change["field"] == "message_template_components_update"
    ]
    assert edited == [
        {
            "message_template_id": int(template_id),
            "message_template_name": "order_update",
            "message_template_language": "en_US",
            "message_template_element": NEW_BODY["text"],
        }
    ]


def test_a_pending_template_cannot_be_edited_and_nothing_changes(
    client: TestClient, tenant: Tenant, auth: dict[str, str]
) -> None:
    template_id = create(client, tenant, auth)
    pending = tenant.store.decisions[("template", template_id)]
    error = check_graph_error(edit(client, auth, template_id, {"components": [NEW_BODY]}), 100, 400)
    assert "in review" in error["error_data"]["details"]
    template = tenant.store.templates.get(template_id)
    assert template.components == [BODY] and tenant.store.decisions[("template", template_id)] is pending


def test_an_approved_template_is_edited_once_per_day_and_ten_times_per_thirty_days(
    client: TestClient, tenant: Tenant, auth: dict[str, str]
) -> None:
    template_id = approved(client, tenant, auth)
    texts = [f"Edit {n} for {{{{1}}}} and order {{{{2}}}} today." for n in range(12)]
    bodies = [{"components": [BODY | {"text": text}]} for text in texts]
    assert edit(client, auth, template_id, bodies[0]).status_code == 200
    decide(client, tenant, template_id)
    check_graph_error(edit(client, auth, template_id, bodies[1]), 80012, 400)
    assert tenant.store.templates.get(template_id).components == bodies[0]["components"]
    for n in range(1, 10):
        advance(client, tenant, 24 * HOUR)
        assert edit(client, auth, template_id, bodies[n]).status_code == 200, n
        decide(client, tenant, template_id)
    advance(client, tenant, 24 * HOUR)
    error = check_graph_error(edit(client, auth, template_id, bodies[10]), 80012, 400)
    assert "10 times in 30 days" in error["error_data"]["details"]
    assert tenant.store.templates.get(template_id).status == "APPROVED"


def test_rejected_templates_are_edited_freely(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    template_id = create(client, tenant, auth)
    for n in range(3):
        decide(client, tenant, template_id, "REJECTED", reason="INVALID_FORMAT")
        body = {"components": [BODY | {"text": f"Try {n}: hi {{{{1}}}}, order {{{{2}}}} shipped."}]}
        assert edit(client, auth, template_id, body).status_code == 200
    assert tenant.store.templates.get(template_id).status == "PENDING"


def test_the_category_of_an_approved_template_cannot_be_edited_but_a_rejected_one_can(
    client: TestClient, tenant: Tenant, auth: dict[str, str]
) -> None:
    template_id = approved(client, tenant, auth)
    check_graph_error(edit(client, auth, template_id, {"category": "MARKETING"}), 100, 400)
    assert tenant.store.templates.get(template_id).category == "UTILITY"
    other = create(client, tenant, auth, name="other_update")
    decide(client, tenant, other, "REJECTED", reason="INCORRECT_CATEGORY")
    assert edit(client, auth, other, {"category": "MARKETING"}).json()["category"] == "MARKETING"


def test_an_edit_is_validated_as_creation_is(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    template_id = approved(client, tenant, auth)
    leading = {"components": [{"type": "BODY", "text": "{{1}} has shipped", "example": {"body_text": [["A"]]}}]}
    check_graph_error(edit(client, auth, template_id, leading), 100, 400, subcode=2388299)
    check_graph_error(edit(client, auth, template_id, {"name": "renamed"}), 100, 400)
    check_graph_error(edit(client, auth, template_id, {}), 100, 400)
    check_graph_error(edit(client, auth, template_id, ["components"]), 100, 400)
    check_graph_error(edit(client, auth, template_id, {"message_send_ttl_seconds": 10**9}), 100, 400)
    template = tenant.store.templates.get(template_id)
    assert template.status == "APPROVED" and template.components == [BODY] and template.approved_edits == []


def test_the_provider_rule_of_one_submission_per_day_is_a_knob(
    client: TestClient, tenant: Tenant, auth: dict[str, str]
) -> None:
    template_id = create(client, tenant, auth)
    decide(client, tenant, template_id, "REJECTED", reason="PROMOTIONAL")
    tenant.policy.templates.one_submission_per_day = True
    error = check_graph_error(edit(client, auth, template_id, {"components": [NEW_BODY]}), 80012, 400)
    assert "once per day" in error["error_data"]["details"]
    advance(client, tenant, 24 * HOUR)
    assert edit(client, auth, template_id, {"components": [NEW_BODY]}).status_code == 200
    decide(client, tenant, template_id, "REJECTED", reason="PROMOTIONAL")
    check_graph_error(edit(client, auth, template_id, {"components": [BODY]}), 80012, 400)
