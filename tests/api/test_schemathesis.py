"""Schemathesis over Meta's OpenAPI description, on every operation the sandbox serves: no answer ≥ 500 and no
response that violates the response schema Meta gives for its status.

The description is the one test_openapi.py validates against (its documented corrections applied), with three
changes a probe needs: `{Version}` gets a pattern (it is a bare string), each node id in a path is one of the
tenant's real ids (random digits only ever reach the 100/33 answer), and the `fields` query parameter is left out:
Meta's schemas mark the default fields `required`, while a projection answers only what was asked
(`?fields=throughput` → `{"throughput": …, "id": …}`, meta-messaging.md §8.1), which test_openapi.py checks per field
set. The tenant's token is the `Authorization` header.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import RecordingTransport
from tests.api.test_openapi import _load, _repaired

# (method, path in the description) for every Graph route the sandbox serves (sandbox/api/__init__.py ROUTES).
SERVED = [
    ("GET", "/{Version}/{Business-ID}"),
    ("GET", "/{Version}/{WABA-ID}"),
    ("GET", "/{Version}/{WABA-ID}/phone_numbers"),
    ("POST", "/{Version}/{WABA-ID}/phone_numbers"),
    ("GET", "/{Version}/{WABA-ID}/subscribed_apps"),
    ("POST", "/{Version}/{WABA-ID}/subscribed_apps"),
    ("DELETE", "/{Version}/{WABA-ID}/subscribed_apps"),
    ("GET", "/{Version}/{WABA-ID}/message_templates"),
    ("POST", "/{Version}/{WABA-ID}/message_templates"),
    ("DELETE", "/{Version}/{WABA-ID}/message_templates"),
    ("GET", "/{Version}/{TEMPLATE_ID}"),
    ("POST", "/{Version}/{TEMPLATE_ID}"),
    ("GET", "/{Version}/{Phone-Number-ID}"),
    ("POST", "/{Version}/{Phone-Number-ID}"),
    ("POST", "/{Version}/{Phone-Number-ID}/messages"),
    ("POST", "/{Version}/{Phone-Number-ID}/media"),
    ("POST", "/{Version}/{Phone-Number-ID}/register"),
    ("POST", "/{Version}/{Phone-Number-ID}/deregister"),
    ("POST", "/{Version}/{Phone-Number-ID}/request_code"),
    ("POST", "/{Version}/{Phone-Number-ID}/verify_code"),
    ("GET", "/{Version}/{Phone-Number-ID}/settings"),
    ("POST", "/{Version}/{Phone-Number-ID}/settings"),
    ("GET", "/{Version}/{Phone-Number-ID}/whatsapp_business_profile"),
    ("POST", "/{Version}/{Phone-Number-ID}/whatsapp_business_profile"),
    ("GET", "/{Version}/{Phone-Number-ID}/block_users"),
    ("POST", "/{Version}/{Phone-Number-ID}/block_users"),
    ("DELETE", "/{Version}/{Phone-Number-ID}/block_users"),
    ("GET", "/{Version}/{Media-ID}"),
    ("DELETE", "/{Version}/{Media-ID}"),
]
# Half the profile's examples per operation, at most 75: 36 runs of an operation stay under a minute on one core
# (100 each, 3,600 cases, took 50 s of CPU).
EXAMPLES = min(75, max(10, (settings.default.max_examples or 50) // 2))
PNG = b"\x89PNG\r\n\x1a\n"


def probe_document(published: dict[str, Any], ids: dict[str, list[str]]) -> dict[str, Any]:
    document = copy.deepcopy(published)
    shared = document["components"]["parameters"]
    for item in document["paths"].values():
        for method in ("get", "post", "delete"):
            if method not in item:
                continue
            operation = item[method]
            parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
            item.pop("parameters", None)
            kept = []
            for parameter in parameters:
                if "$ref" in parameter:
                    parameter = shared[parameter["$ref"].rsplit("/", 1)[1]]
                resolved = copy.deepcopy(parameter)
                if resolved.get("in") == "query" and resolved.get("name") == "fields":
                    continue
                if resolved.get("in") == "path" and resolved["name"] == "Version":
                    resolved["schema"] = {"type": "string", "pattern": r"^v\d{1,2}\.\d{1,2}$"}
                elif resolved.get("in") == "path" and resolved["name"] in ids:
                    resolved["schema"] = {"type": "string", "enum": ids[resolved["name"]]}
                kept.append(resolved)
            operation["parameters"] = kept
    return document


def _world() -> tuple[Sandbox, Tenant]:
    sandbox = Sandbox(Settings(seed=7))
    command = CreateTenant(name="t1", clock=ConfigureClock(mode="frozen"), webhook_url="http://receiver.test/webhook")
    tenant = create_tenant(sandbox, command, start=datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    tenant.policy.messages.progression = "immediate"
    return sandbox, tenant


def _ids(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> dict[str, list[str]]:
    phone = tenant.document()["phone_number_id"]
    media = [
        client.post(f"/v23.0/{phone}/media", headers=auth, data={"messaging_product": "whatsapp"},
                    files={"file": ("a.png", PNG, "image/png")}).json()["id"]
        for _ in range(3)
    ]  # fmt: skip
    return {
        "Business-ID": [tenant.business_id],
        "WABA-ID": [tenant.waba_id],
        "Phone-Number-ID": [phone],
        "TEMPLATE_ID": [template.id for template in tenant.store.templates],
        "Media-ID": media,
    }


def probe(published: dict[str, Any], operations: list[tuple[str, str]], examples: int) -> list[dict[str, Any]]:
    """Per operation, in order on one tenant (so reads see what earlier writes left): the cases run and each failed
    check's first lines."""
    sandbox, tenant = _world()
    reports: list[dict[str, Any]] = []
    with TestClient(create_app(sandbox, transport=RecordingTransport())) as client:
        auth = {"Authorization": f"Bearer {tenant.credentials.access_token}"}
        schema = schemathesis.openapi.from_dict(probe_document(published, _ids(client, tenant, auth)))
        schema.app = client.app
        for method, path in operations:
            report: dict[str, Any] = {"operation": f"{method} {path}", "cases": 0, "failures": []}
            _run(schema[path][method], auth, examples, report)
            reports.append(report)
    return reports


def _run(operation: Any, auth: dict[str, str], examples: int, report: dict[str, Any]) -> None:
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(operation.as_strategy())
    def run(case: Any) -> None:
        report["cases"] += 1
        response = case.call(headers=auth)
        for check in (not_a_server_error, response_schema_conformance):
            try:
                case.validate_response(response, checks=[check])
            except (AssertionError, FailureGroup) as failure:
                lines = [line.strip() for line in str(failure).splitlines() if line.strip()]
                report["failures"].append(f"{check.__name__}: {' | '.join(lines[:3])} <- {case.as_curl_command()}")

    run()


@pytest.fixture(scope="module")
def described() -> dict[str, Any]:
    return _repaired(_load())


def test_every_served_operation_is_described(described: dict[str, Any]) -> None:
    for method, path in SERVED:
        assert method.lower() in described["paths"][path], (method, path)


@pytest.mark.slow
def test_no_server_error_and_no_schema_violation(described: dict[str, Any]) -> None:
    # Then every read again, on the world the writes (deregister, deletions, unsubscribing) left.
    reports = probe(described, SERVED + [(method, path) for method, path in SERVED if method == "GET"], EXAMPLES)
    failures = [failure for report in reports for failure in report["failures"]]
    assert sum(report["cases"] for report in reports) >= len(SERVED) * 5
    assert not failures, f"{len(failures)} failed checks:\n" + "\n".join(failures[:20])
