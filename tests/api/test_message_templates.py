"""`POST /{waba-id}/message_templates` over HTTP: Meta's answer, Meta's refusals (code, subcode, envelope) with
nothing stored, the review on the tenant clock with its webhooks, forcing it, reads with filters, paging, summary,
and `upsert_message_templates`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.testing import RecordingTransport, check_graph_error

UTILITY = {
    "name": "order_update",
    "language": "en_US",
    "category": "UTILITY",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}", "example": {"header_text": ["#42"]}},
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped.", "example": {"body_text": [["Ana", "42"]]}},
        {"type": "FOOTER", "text": "Lucky Shrub"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Thanks"},
                {"type": "URL", "text": "Track", "url": "https://x.test/t/{{1}}", "example": ["https://x.test/t/42"]},
                {"type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+16467043595"},
            ],
        },
    ],
}


def _post(client: TestClient, tenant: Tenant, auth: dict[str, str], body: Any) -> Any:
    return client.post(f"/v23.0/{tenant.waba_id}/message_templates", json=body, headers=auth)


def _template_webhooks(transport: RecordingTransport, field: str = "message_template_status_update") -> list[Any]:
    return [
        change["value"]
        for payload in transport.payloads()
        for entry in payload["entry"]
        for change in entry["changes"]
        if change["field"] == field
    ]


def test_a_created_template_is_pending_then_approved_with_one_webhook(
    client: TestClient, tenant: Tenant, auth: dict[str, str], transport: RecordingTransport
) -> None:
    response = _post(client, tenant, auth, UTILITY)
    assert response.status_code == 200
    created = response.json()
    assert set(created) == {"id", "status", "category"}
    assert created["status"] == "PENDING" and created["category"] == "UTILITY"
    assert tenant.store.templates.get(created["id"]).status == "PENDING"
    assert _template_webhooks(transport) == []
    client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 3600})
    read = client.get(f"/v23.0/{created['id']}", params={"fields": "status,rejected_reason"}, headers=auth).json()
    assert read == {"status": "APPROVED", "rejected_reason": "NONE", "id": created["id"]}
    hooks = _template_webhooks(transport)
    assert hooks == [
        {
            "event": "APPROVED",
            "message_template_id": int(created["id"]),
            "message_template_name": "order_update",
            "message_template_language": "en_US",
            "reason": "NONE",
            "message_template_category": "UTILITY",
        }
    ]


def test_a_form_body_is_accepted_as_clients_send_it(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    import json

    form = {key: json.dumps(value) if not isinstance(value, str) else value for key, value in UTILITY.items()}
    response = client.post(
        f"/v23.0/{tenant.waba_id}/message_templates",
        content=urlencode(form),
        headers=auth | {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text


def test_a_forced_rejection_sends_meta_s_reason_and_rejection_info(
    client: TestClient, tenant: Tenant, auth: dict[str, str], transport: RecordingTransport
) -> None:
    created = _post(client, tenant, auth, UTILITY).json()
    forced = client.post(
        f"/_sandbox/tenants/{tenant.id}/reviews",
        json={"kind": "template", "target": created["id"], "decision": "REJECTED", "reason": "INVALID_FORMAT"},
    )
    assert forced.status_code == 200, forced.text
    hook = _template_webhooks(transport)[0]
    assert hook["event"] == "REJECTED" and hook["reason"] == "INVALID_FORMAT"
    assert set(hook["rejection_info"]) == {"reason", "recommendation"}
    assert tenant.store.templates.get(created["id"]).rejected_reason == "INVALID_FORMAT"
    client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 86_400})
    assert len(_template_webhooks(transport)) == 1


def test_a_forced_recategorisation_sends_the_category_update_first(
    client: TestClient, tenant: Tenant, auth: dict[str, str], transport: RecordingTransport
) -> None:
    created = _post(client, tenant, auth, UTILITY).json()
    client.post(
        f"/_sandbox/tenants/{tenant.id}/reviews",
        json={"kind": "template", "target": created["id"], "decision": "APPROVED", "reason": "MARKETING"},
    )
    category = _template_webhooks(transport, "template_category_update")
    assert category == [
        {
            "message_template_id": int(created["id"]),
            "message_template_name": "order_update",
            "message_template_language": "en_US",
            "previous_category": "UTILITY",
            "new_category": "MARKETING",
        }
    ]
    status = _template_webhooks(transport)
    assert status[0]["event"] == "APPROVED" and status[0]["message_template_category"] == "MARKETING"
    read = client.get(f"/v23.0/{created['id']}", params={"fields": "category,previous_category"}, headers=auth)
    assert read.json() == {"category": "MARKETING", "previous_category": "UTILITY", "id": created["id"]}


def test_a_refused_category_is_rejected_with_the_correct_one(
    client: TestClient, tenant: Tenant, auth: dict[str, str]
) -> None:
    created = _post(client, tenant, auth, UTILITY).json()
    client.post(
        f"/_sandbox/tenants/{tenant.id}/reviews",
        json={"kind": "template", "target": created["id"], "decision": "REJECTED", "reason": "AUTHENTICATION"},
    )
    read = client.get(
        f"/v23.0/{created['id']}", params={"fields": "status,rejected_reason,correct_category"}, headers=auth
    ).json()
    assert read["status"] == "REJECTED" and read["rejected_reason"] == "INCORRECT_CATEGORY"
    assert read["correct_category"] == "AUTHENTICATION"


def _variant(**changes: Any) -> dict[str, Any]:
    return {**UTILITY, **changes}


def _body(text: str, example: Any = None) -> dict[str, Any]:
    component: dict[str, Any] = {"type": "BODY", "text": text}
    if example is not None:
        component["example"] = example
    return component


REFUSALS = [
    (_variant(name="Bad Name"), 100, None),
    (_variant(language="xx_XX"), 100, None),
    (_variant(category="PROMO"), 100, None),
    (_variant(components=[_body("{{1}} is here", {"body_text": [["a"]]})]), 100, 2388299),
    (_variant(components=[_body("Hi {{1}}")]), 100, 2388299),
    (_variant(components=[_body("Hi {{1}} and {{3}} now")]), 100, 2388072),
    (_variant(components=[_body("Hi {{1}} and {{2}} now", {"body_text": [["a"]]})]), 100, 2388043),
    (_variant(components=[_body("Hi {{1}} now")]), 100, 2388043),
    (_variant(components=[_body("x" * 1025)]), 100, 2388040),
    (_variant(components=[_body("Hi"), {"type": "FOOTER", "text": "f {{1}}"}]), 100, 2388073),
    (_variant(components=[_body("Hi"), {"type": "HEADER", "format": "AUDIO"}]), 100, 2388047),
    (_variant(components=[_body("Hi"), {"type": "HEADER", "format": "IMAGE"}]), 100, 2388043),
    (
        _variant(
            components=[
                _body("Hi"),
                {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": str(i)} for i in range(11)]},
            ]
        ),
        100,
        None,
    ),
]


@pytest.mark.parametrize(("body", "code", "subcode"), REFUSALS)
def test_a_refused_template_is_meta_s_error_and_nothing_is_stored(
    client: TestClient, tenant: Tenant, auth: dict[str, str], body: dict[str, Any], code: int, subcode: int | None
) -> None:
    before = len(tenant.store.templates)
    error = check_graph_error(_post(client, tenant, auth, body), code, 400, subcode=subcode)
    if subcode is not None:
        assert error["error_user_title"] and error["error_user_msg"] and error["is_transient"] is False
    else:
        assert "error_subcode" not in error
    assert len(tenant.store.templates) == before
    assert tenant.store.decisions == {}


def test_a_duplicate_name_and_language_is_2388024(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    assert _post(client, tenant, auth, UTILITY).status_code == 200
    error = check_graph_error(_post(client, tenant, auth, UTILITY), 100, 400, subcode=2388024)
    assert error["error_user_title"] == "Content in This Language Already Exists"
    assert _post(client, tenant, auth, _variant(language="pt_BR")).status_code == 200


def test_the_count_and_the_hourly_rate_are_limited(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    tenant.policy.patch({"templates": {"creations_per_hour": 2}})
    for name in ("a1", "a2"):
        assert _post(client, tenant, auth, _variant(name=name)).status_code == 200
    check_graph_error(_post(client, tenant, auth, _variant(name="a3")), 80008, 400)
    client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": 3601})
    held = sum(1 for t in tenant.store.templates)
    tenant.policy.patch({"templates": {"per_waba_verified": held, "per_waba": held}})
    check_graph_error(_post(client, tenant, auth, _variant(name="a3")), 100, 400, subcode=2388019)


def test_reads_filter_page_and_summarise(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    for name in ("order_one", "order_two", "promo_three"):
        _post(client, tenant, auth, _variant(name=name))
    url = f"/v23.0/{tenant.waba_id}/message_templates"
    found = client.get(url, params={"name": "order", "fields": "name,status"}, headers=auth).json()
    assert [t["name"] for t in found["data"]] == ["order_one", "order_two"]
    pending = client.get(url, params={"status": "PENDING,REJECTED"}, headers=auth).json()["data"]
    assert {t["name"] for t in pending} == {"order_one", "order_two", "promo_three"}
    first = client.get(url, params={"limit": 2, "summary": "total_count"}, headers=auth).json()
    assert len(first["data"]) == 2 and first["summary"] == {"total_count": 4}
    after = first["paging"]["cursors"]["after"]
    rest = client.get(url, params={"limit": 2, "after": after}, headers=auth).json()
    assert [t["name"] for t in rest["data"]] == ["order_two", "promo_three"]
    summary = client.get(url, params={"summary": "true"}, headers=auth).json()["summary"]
    assert summary["message_template_count"] == 4 and summary["message_template_limit"] == 6000


def test_upsert_creates_an_authentication_template_per_language(
    client: TestClient, tenant: Tenant, auth: dict[str, str]
) -> None:
    body = {
        "name": "login_code",
        "languages": ["en_US", "es_ES"],
        "category": "AUTHENTICATION",
        "components": [
            {"type": "BODY", "add_security_recommendation": True},
            {"type": "FOOTER", "code_expiration_minutes": 10},
            {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE"}]},
        ],
    }
    response = client.post(f"/v23.0/{tenant.waba_id}/upsert_message_templates", json=body, headers=auth)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert [(item["language"], item["status"]) for item in data] == [("en_US", "PENDING"), ("es_ES", "PENDING")]
    again = client.post(f"/v23.0/{tenant.waba_id}/upsert_message_templates", json=body, headers=auth).json()
    assert [item["id"] for item in again["data"]] == [item["id"] for item in data]
    bad = body | {"languages": ["en_US", "xx"]} | {"name": "login_two"}
    before = len(tenant.store.templates)
    check_graph_error(
        client.post(f"/v23.0/{tenant.waba_id}/upsert_message_templates", json=bad, headers=auth), 100, 400
    )
    assert len(tenant.store.templates) == before
