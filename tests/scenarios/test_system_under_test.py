"""A QA's own integration: the sandbox delivers webhooks to a real system under test, which answers through the
Graph API; the scenario checks what the system did (`--url ... --tenant default --wait`)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from sandbox.context import Sandbox
from sandbox.domain.commands import CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import running_server
from scenarios import RunOptions, load_text, run_scenario

AUTO_REPLY = """\
name: auto-reply
rules: [SEED-MSG-1]
variables:
  customer: "15551238101"
steps:
  - customer_writes: {from: $customer, text: "Opening hours?"}
  - name: the system under test answers within the window
    expect_messages: {to: $customer, direction: outbound, where: {text.body: {contains: "9 to 5"}}, count: 1}
  - advance: 1m
  - expect_messages: {to: $customer, direction: outbound, status: read, count: 1}
"""


def system_under_test(config: dict[str, Any]) -> Starlette:
    """A tiny customer-service bot: answers every inbound text through the Graph API (`config` says where)."""

    async def webhook(request: Request) -> PlainTextResponse:
        payload = await request.json()
        for entry in payload["entry"]:
            for change in entry["changes"]:
                for message in change["value"].get("messages", []):
                    document = config["tenant"]
                    async with httpx.AsyncClient(base_url=config["graph_url"]) as graph:
                        await graph.post(
                            f"/{document['graph_version']}/{document['phone_number_id']}/messages",
                            headers={"Authorization": f"Bearer {document['access_token']}"},
                            json={
                                "messaging_product": "whatsapp",
                                "to": message["from"],
                                "type": "text",
                                "text": {"body": "We are open 9 to 5."},
                            },
                        )
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/webhook", webhook, methods=["POST"])])


@pytest.mark.server
def test_scenario_checks_what_the_system_under_test_did() -> None:
    config: dict[str, Any] = {}
    with running_server(app=system_under_test(config)) as sut_url:
        sandbox = Sandbox(Settings())
        tenant = create_tenant(sandbox, CreateTenant(name="default", webhook_url=f"{sut_url}/webhook"))
        with running_server(sandbox) as sandbox_url:
            config.update(graph_url=sandbox_url, tenant=tenant.document())
            result = run_scenario(load_text(AUTO_REPLY), RunOptions(url=sandbox_url, tenant="default", wait=5))
    assert result.passed, result.report
