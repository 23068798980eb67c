"""`GET|PATCH /_sandbox/tenants/{tenant}/policy` and `GET /_sandbox/policy/knobs`."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.domain.policy import Policy
from sandbox.testing import check_sandbox_error

GROUPS = {
    "messages",
    "limits",
    "webhooks",
    "journal",
    "trial",
    "verification",
    "waba_review",
    "messaging_limits",
    "pricing",
    "numbers",
    "display_names",
    "templates",
    "quality",
    "template_review",
    "template_quality",
}


def _policy(client: TestClient, tenant: Tenant, query: str = "") -> dict[str, Any]:
    response = client.get(f"/_sandbox/tenants/{tenant.id}/policy{query}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_get_shows_every_group_and_default(client: TestClient, tenant: Tenant) -> None:
    policy = _policy(client, tenant)
    assert set(policy) == GROUPS
    assert policy["messages"]["progression"] == "immediate"
    assert policy["webhooks"]["retry_seconds"][:3] == [0, 60, 300]
    assert policy["limits"]["throughput_mps"] == {"STANDARD": 80, "HIGH": 1000, "COEXISTENCE": 20}
    assert policy["journal"] == {
        "requests": 10_000,
        "messages": 100_000,
        "webhooks": 10_000,
        "customers": 100_000,
        "media_bytes": 256 * 2**20,
        "media_objects": 10_000,
    }
    assert sum(len(knobs) for knobs in policy.values()) == len(Policy.describe())


def test_flat_shape_uses_the_old_names(client: TestClient, tenant: Tenant) -> None:
    flat = _policy(client, tenant, "?shape=flat")
    assert flat["progression"] == "immediate"
    assert flat["webhook_retry_seconds"] == _policy(client, tenant)["webhooks"]["retry_seconds"]
    assert flat["journal_messages"] == 100_000
    check_sandbox_error(client.get(f"/_sandbox/tenants/{tenant.id}/policy?shape=nested"), 400)


def test_patch_takes_flat_names(client: TestClient, tenant: Tenant) -> None:
    patched = client.patch(
        f"/_sandbox/tenants/{tenant.id}/policy",
        json={"progression": "scheduled", "read_probability": 0.5, "sent_delay": [1, 2], "webhook_timeout_seconds": 2},
    )
    assert patched.status_code == 200
    assert patched.json() == _policy(client, tenant)
    messages = patched.json()["messages"]
    assert (messages["progression"], messages["read_probability"], messages["sent_delay"]) == ("scheduled", 0.5, [1, 2])
    assert tenant.policy.webhooks.timeout_seconds == 2.0


def test_patch_takes_groups_and_mixes_them_with_flat_names(client: TestClient, tenant: Tenant) -> None:
    body = {"messages": {"progression": "manual"}, "webhooks": {"overflow": "drop_newest"}, "pair_rate_burst": 3}
    assert client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json=body).status_code == 200
    assert tenant.policy.messages.progression == "manual"
    assert tenant.policy.webhooks.overflow == "drop_newest"
    assert tenant.policy.limits.pair_rate_burst == 3


def test_patch_answers_in_the_shape_asked_for(client: TestClient, tenant: Tenant) -> None:
    patched = client.patch(f"/_sandbox/tenants/{tenant.id}/policy?shape=flat", json={"journal": {"webhooks": 5}})
    assert patched.json()["journal_webhooks"] == 5


def test_a_whole_snapshot_patches_back(client: TestClient, tenant: Tenant) -> None:
    before = _policy(client, tenant)
    client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"progression": "manual", "journal_requests": 9})
    assert client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json=before).json() == before


def test_patch_resizes_the_journals(client: TestClient, tenant: Tenant) -> None:
    body = {"journal": {"requests": 3}, "journal_messages": 4}
    assert client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json=body).status_code == 200
    assert tenant.store.messages.max_size == 4
    assert tenant.store.requests._entries.maxlen == 3


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"progression": "fast"}, ["messages.progression", "immediate, scheduled, manual", '"fast"']),
        ({"read_probability": 2}, ["messages.read_probability", "0 to 1", "2"]),
        ({"read_probability": -0.1}, ["0 to 1"]),
        ({"read_probability": "high"}, ['"high"']),
        ({"read_probability": True}, ["true"]),
        ({"throughput_catch_up_seconds": 1}, ["under 1"]),
        ({"throughput_catch_up_seconds": -0.5}, ["-0.5"]),
        ({"sent_delay": [3, 1]}, ["[min, max]"]),
        ({"sent_delay": [1]}, ["[min, max]"]),
        ({"sent_delay": "1-2"}, ["[min, max]"]),
        ({"sent_delay": [0, 31 * 86400]}, ["2592000"]),
        ({"webhook_retry_seconds": []}, ["webhooks.retry_seconds", "1 to 50"]),
        ({"webhooks": {"retry_seconds": [60] * 51}}, ["1 to 50"]),
        ({"webhooks": {"retry_seconds": [8 * 86400]}}, ["604800"]),
        ({"journal_requests": 0}, ["journal.requests", "1 to 1000000"]),
        ({"journal_requests": 1.5}, ["an integer"]),
        ({"journal": {"messages": 1_000_001}}, ["1000001"]),
        ({"throughput_mps": {"STANDARD": 100_001}}, ["1 to 100000"]),
        ({"throughput_mps": {"TURBO": 5}}, ["STANDARD, HIGH, COEXISTENCE"]),
        ({"throughput_mps": 80}, ["by level"]),
        ({"app_calls_per_hour": 10**9}, ["limits.app_calls_per_hour"]),
        ({"webhook_overflow": "drop_all"}, ["drop_oldest, drop_newest"]),
        ({"throughput_counts_inbound": "no"}, ["true or false"]),
        ({"no_such_knob": 1}, ["unknown policy group or knob 'no_such_knob'"]),
        ({"reviews": {"latency": 1}}, ["unknown policy group or knob 'reviews'"]),
        ({"messages": {"no_such_knob": 1}}, ["unknown knob 'no_such_knob' in policy group messages"]),
        ({"messages": "manual"}, ["must be an object"]),
        ({"webhooks": {"webhook_timeout_seconds": 1}}, ["unknown knob"]),
        ({"progression": "manual", "messages": {"progression": "manual"}}, ["given twice"]),
        ({"progression": "manual", "read_probability": 7}, ["read_probability"]),
        ({"messages": {"progression": "manual"}, "journal": {"requests": 0}}, ["journal.requests"]),
    ],
)
def test_patch_rejects_and_changes_nothing(
    client: TestClient, tenant: Tenant, body: dict[str, Any], words: list[str]
) -> None:
    before = _policy(client, tenant)
    error = check_sandbox_error(client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json=body), 400)
    for word in words:
        assert word in error["message"]
    assert _policy(client, tenant) == before


def test_patch_needs_a_body(client: TestClient, tenant: Tenant) -> None:
    check_sandbox_error(client.patch(f"/_sandbox/tenants/{tenant.id}/policy"), 400)
    check_sandbox_error(client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json=["progression"]), 400)


def test_a_bad_shape_changes_nothing(client: TestClient, tenant: Tenant) -> None:
    path = f"/_sandbox/tenants/{tenant.id}/policy?shape=nested"
    check_sandbox_error(client.patch(path, json={"progression": "manual"}), 400)
    assert tenant.policy.messages.progression == "immediate"


def test_knobs_describe_every_declaration(client: TestClient) -> None:
    response = client.get("/_sandbox/policy/knobs")
    assert response.status_code == 200
    knobs = {(knob["group"], knob["name"]): knob for knob in response.json()["data"]}
    assert {group for group, _ in knobs} == GROUPS
    assert knobs["messages", "progression"] | {"description": ""} == {
        "group": "messages", "name": "progression", "flat_name": "progression", "type": "choice",
        "choices": ["immediate", "scheduled", "manual"], "unit": "", "description": "", "default": "scheduled",
    }  # fmt: skip
    catch_up = knobs["limits", "throughput_catch_up_seconds"]
    assert (catch_up["min"], catch_up["max"], catch_up["max_exclusive"]) == (0, 1, True)
    assert knobs["webhooks", "retry_seconds"]["flat_name"] == "webhook_retry_seconds"
    assert knobs["webhooks", "retry_seconds"]["max_items"] == 50
    for knob in knobs.values():
        assert knob["description"] and "default" in knob
        assert knob["type"] in {"boolean", "choice"} or ("min" in knob and "max" in knob), knob


def test_a_new_group_is_served_without_touching_the_routes(client: TestClient, tenant: Tenant) -> None:
    from tests.domain.test_policy import ExtendedPolicy

    tenant.policy = ExtendedPolicy()
    assert _policy(client, tenant)["reviews"]["outcome"] == "APPROVED"
    body = {"reviews": {"reviewers": 3}, "review_outcome": "REJECTED"}
    assert client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json=body).json()["reviews"]["reviewers"] == 3
    # Its old flat name is the alias it declares; the bare knob name is not one.
    refused = client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"outcome": "REJECTED"})
    error = check_sandbox_error(refused, 400)
    assert "unknown policy group or knob 'outcome'" in error["message"]
    assert _policy(client, tenant, "?shape=flat")["review_outcome"] == "REJECTED"
