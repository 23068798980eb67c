"""`DELETE /{waba-id}/message_templates`, archive / unarchive and `migrate_message_templates` over HTTP
(meta-lifecycle.md §4.4, §4.5, §4.10; SEED-TEMPLATE-7): Meta's answers, refusals with nothing changed, the deletion
on the tenant clock with its webhooks, the name blocked for 30 days, a failed deletion retried."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.domain.waba import WhatsAppBusinessAccount
from sandbox.testing import RecordingTransport, check_graph_error
from tests.api.test_template_edits import TEMPLATE, advance, create, decide

DAY = 86_400


def delete(client: TestClient, tenant: Tenant, auth: dict[str, str], **params: Any) -> Any:
    return client.delete(f"/v23.0/{tenant.waba_id}/message_templates", params=params, headers=auth)


def status_events(transport: RecordingTransport) -> list[tuple[str, Any, Any]]:
    return [
        (change["value"]["message_template_name"], change["value"]["event"], change["value"]["reason"])
        for payload in transport.payloads()
        for entry in payload["entry"]
        for change in entry["changes"]
        if change["field"] == "message_template_status_update"
    ]


def status(tenant: Tenant, template_id: str) -> str:
    return tenant.store.templates.get(template_id).status


def test_delete_by_name_takes_every_language_through_pending_deletion(
    client: TestClient, tenant: Tenant, auth: dict[str, str], transport: RecordingTransport
) -> None:
    english, spanish = create(client, tenant, auth), create(client, tenant, auth, language="es")
    other = create(client, tenant, auth, name="other_update")
    response = delete(client, tenant, auth, name="order_update")
    assert response.status_code == 200 and response.json() == {"success": True}
    assert (status(tenant, english), status(tenant, spanish), status(tenant, other)) == (
        "PENDING_DELETION",
        "PENDING_DELETION",
        "PENDING",
    )
    assert ("template", english) not in tenant.store.decisions
    advance(client, tenant, tenant.policy.templates.deletion_seconds)
    assert (status(tenant, english), status(tenant, spanish)) == ("DELETED", "DELETED")
    deletion = [(event, reason) for name, event, reason in status_events(transport) if name == "order_update"]
    assert deletion == [("PENDING_DELETION", None)] * 2 + [("DELETED", None)] * 2
    listed = client.get(f"/v23.0/{tenant.waba_id}/message_templates", headers=auth).json()["data"]
    assert "order_update" not in [t["name"] for t in listed]


def test_a_deleted_name_is_blocked_for_thirty_days(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    create(client, tenant, auth)
    assert delete(client, tenant, auth, name="order_update").status_code == 200
    url = f"/v23.0/{tenant.waba_id}/message_templates"
    check_graph_error(client.post(url, json=TEMPLATE, headers=auth), 100, 400, subcode=2388023)
    advance(client, tenant, 29 * DAY)
    check_graph_error(client.post(url, json=TEMPLATE, headers=auth), 100, 400, subcode=2388023)
    advance(client, tenant, DAY)
    assert client.post(url, json=TEMPLATE, headers=auth).status_code == 200


def test_delete_by_id_and_name_takes_one_template(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    english, spanish = create(client, tenant, auth), create(client, tenant, auth, language="es")
    tenant.policy.templates.deletion_seconds = 0
    assert delete(client, tenant, auth, name="order_update", hsm_id=spanish).status_code == 200
    assert (status(tenant, english), status(tenant, spanish)) == ("PENDING", "DELETED")


def test_bulk_delete_is_all_or_nothing(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    first, second = create(client, tenant, auth), create(client, tenant, auth, name="other_update")
    check_graph_error(delete(client, tenant, auth, hsm_ids=json.dumps([first, "999999999"])), 100, 400)
    check_graph_error(delete(client, tenant, auth, hsm_ids=json.dumps([first]), name="order_update"), 100, 400)
    check_graph_error(delete(client, tenant, auth, hsm_ids=json.dumps([str(n) for n in range(101)])), 100, 400)
    assert (status(tenant, first), status(tenant, second)) == ("PENDING", "PENDING")
    assert delete(client, tenant, auth, hsm_ids=json.dumps([int(first), int(second)])).status_code == 200
    assert (status(tenant, first), status(tenant, second)) == ("PENDING_DELETION", "PENDING_DELETION")


def test_unknown_names_ids_and_disabled_templates_are_refused(
    client: TestClient, tenant: Tenant, auth: dict[str, str]
) -> None:
    template_id = create(client, tenant, auth)
    check_graph_error(delete(client, tenant, auth, name="no_such_template"), 100, 400)
    check_graph_error(delete(client, tenant, auth, name="other", hsm_id=template_id), 100, 400)
    check_graph_error(delete(client, tenant, auth), 100, 400)
    tenant.store.templates.get(template_id).status = "DISABLED"
    check_graph_error(delete(client, tenant, auth, name="order_update"), 100, 400)
    assert status(tenant, template_id) == "DISABLED"


def test_a_deletion_failed_by_a_fault_changes_nothing_and_is_retried(
    client: TestClient, tenant: Tenant, auth: dict[str, str]
) -> None:
    template_id = create(client, tenant, auth)
    fault = {"match": {"method": "DELETE", "path": "/*/message_templates"}, "error": {"code": 2}, "times": 1}
    assert client.post(f"/_sandbox/tenants/{tenant.id}/faults", json=fault).status_code == 201
    check_graph_error(delete(client, tenant, auth, name="order_update"), 2, 503)
    assert status(tenant, template_id) == "PENDING"
    assert delete(client, tenant, auth, name="order_update").status_code == 200
    assert status(tenant, template_id) == "PENDING_DELETION"


def test_archive_and_unarchive_answer_per_template(
    client: TestClient, tenant: Tenant, auth: dict[str, str], transport: RecordingTransport
) -> None:
    approved, pending = create(client, tenant, auth), create(client, tenant, auth, name="other_update")
    decide(client, tenant, approved)
    url = f"/{tenant.waba_id}/message_templates"
    body = {"hsm_ids": f"{approved},{pending},123"}
    archived = client.post(f"{url}/archive", json=body, headers=auth).json()
    assert archived["archived_templates"] == [approved] and set(archived["failed_templates"]) == {pending, "123"}
    assert status(tenant, approved) == "ARCHIVED"
    unarchived = client.post(f"/v23.0{url}/unarchive", json=body, headers=auth).json()
    assert unarchived["unarchived_templates"] == [approved] and status(tenant, approved) == "APPROVED"
    assert [event for name, event, _ in status_events(transport) if name == "order_update"] == [
        "APPROVED",
        "ARCHIVED",
        "UNARCHIVED",
    ]
    check_graph_error(client.post(f"{url}/archive", json={}, headers=auth), 100, 400)
    check_graph_error(client.post(f"{url}/nothing", json=body, headers=auth), 100, 400, subcode=33)


def second_waba(tenant: Tenant, business_id: str | None = None) -> str:
    own = tenant.store.wabas.get(tenant.waba_id)
    waba = WhatsAppBusinessAccount(id=tenant.ids.node_id(), name="Second", business_id=business_id or own.business_id)
    tenant.store.wabas.add(waba.id, waba)
    return waba.id


def test_migration_recreates_approved_good_templates_in_another_waba_of_the_business(
    client: TestClient, tenant: Tenant, auth: dict[str, str]
) -> None:
    good, pending = create(client, tenant, auth), create(client, tenant, auth, name="other_update")
    red = create(client, tenant, auth, name="red_update")
    for template_id in (good, red):
        decide(client, tenant, template_id)
    tenant.store.templates.get(red).quality_score = "RED"
    destination = second_waba(tenant)
    url = f"/v23.0/{destination}/migrate_message_templates"
    answer = client.post(url, params={"source_waba_id": tenant.waba_id, "page_number": 0}, headers=auth).json()
    copies = [tenant.store.templates.get(template_id) for template_id in answer["migrated_templates"]]
    assert sorted(copy.name for copy in copies) == ["hello_world", "order_update"]
    assert all(copy.waba_id == destination and copy.status == "APPROVED" for copy in copies)
    assert good not in answer["migrated_templates"]
    assert set(answer["failed_templates"]) == {pending, red}
    again = client.post(url, json={"source_waba_id": tenant.waba_id}, headers=auth).json()
    assert again["migrated_templates"] == [] and good in again["failed_templates"]


def test_migration_is_refused_across_businesses_and_for_bad_pages(
    client: TestClient, tenant: Tenant, auth: dict[str, str]
) -> None:
    stranger = second_waba(tenant, business_id="999")
    before = len(list(tenant.store.templates))
    url = f"/v23.0/{stranger}/migrate_message_templates"
    check_graph_error(client.post(url, params={"source_waba_id": tenant.waba_id}, headers=auth), 100, 400)
    own = second_waba(tenant)
    url = f"/v23.0/{own}/migrate_message_templates"
    check_graph_error(client.post(url, params={"source_waba_id": tenant.waba_id, "count": 501}, headers=auth), 100, 400)
    check_graph_error(client.post(url, params={"source_waba_id": "1"}, headers=auth), 100, 400)
    assert len(list(tenant.store.templates)) == before
