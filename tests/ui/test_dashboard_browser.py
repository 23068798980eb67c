"""The dashboard in headless Chromium against a real server: what issue 18's "done means" asks for."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from sandbox.sink import WebhookSink
from tests.ui.conftest import TEMPLATE, graph, inbound, screenshot, send_text

pytestmark = pytest.mark.server
CUSTOMER = "16505551234"


def _send_text(world: dict[str, Any], text: str) -> httpx.Response:
    return send_text(world, CUSTOMER, text)


def _inbound(world: dict[str, Any], text: str) -> None:
    inbound(world, CUSTOMER, text)


def test_the_tenants_list_links_to_a_tenant_page_with_its_credentials(page: Any, world: dict[str, Any]) -> None:
    page.goto(world["ui"].split("/tenants/")[0] + "/")
    page.get_by_role("link", name=world["tenant"]["name"]).click()
    assert page.locator("#cred-access_token").inner_text() == world["tenant"]["access_token"]
    assert world["tenant"]["phone_number_id"] in page.locator("#curl").inner_text()


def test_a_message_sent_through_the_graph_api_appears_in_the_thread_and_moves_by_hand(
    page: Any, world: dict[str, Any]
) -> None:
    page.goto(f"{world['ui']}/chats/{CUSTOMER}")
    _inbound(world, "Is my order ready?")
    response = _send_text(world, "Yes, come by at five.")
    assert response.status_code == 200, response.text
    wamid = response.json()["messages"][0]["id"]
    bubble = page.locator(f'.bubble[data-wamid="{wamid}"]')
    bubble.get_by_text("Yes, come by at five.").wait_for()  # the live thread picked it up
    bubble.get_by_role("button", name=re.compile("read$")).click()
    bubble.locator(".status", has_text="read").wait_for()


def test_a_reply_typed_as_the_customer_reaches_the_webhook_receiver(
    page: Any, world: dict[str, Any], wa_sink: WebhookSink
) -> None:
    page.goto(f"{world['ui']}/chats/{CUSTOMER}")
    page.get_by_label("Message", exact=True).fill("Typed in the dashboard")
    page.get_by_role("button", name="Send as customer").click()
    page.locator(".composer output.ok").wait_for()

    def arrived(sink: WebhookSink) -> bool:
        return "Typed in the dashboard" in str(sink.payloads())

    assert wa_sink.wait_for(arrived)
    page.locator(".bubble.in", has_text="Typed in the dashboard").wait_for()


def test_a_template_approved_on_its_page_then_sends(page: Any, world: dict[str, Any]) -> None:
    created = graph(world, f"{world['tenant']['waba_id']}/message_templates", TEMPLATE)
    assert created.status_code == 200, created.text
    assert created.json()["status"] == "PENDING"
    page.goto(f"{world['ui']}/reviews")
    screenshot(page, "reviews")
    row = page.locator(f'tr[data-review="template:{created.json()["id"]}"]')
    row.get_by_role("button", name="APPROVED").click()
    page.locator('tr[data-template="order_ready"] .status-APPROVED').wait_for()
    body = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER,
        "type": "template",
        "template": {"name": "order_ready", "language": {"code": "en_US"}},
    }
    sent = graph(world, f"{world['tenant']['phone_number_id']}/messages", body)
    assert sent.status_code == 200, sent.text


def test_the_clock_buttons_fire_due_events_and_a_window_closes_after_a_day(page: Any, world: dict[str, Any]) -> None:
    _inbound(world, "Hello?")
    page.goto(f"{world['ui']}/chats/{CUSTOMER}")
    assert "open until" in page.locator("[data-window]").inner_text()
    page.get_by_role("button", name="+1 day").click()
    result = page.locator("#clock-result.ok")
    result.wait_for()
    assert '"fired":' in result.inner_text()
    page.reload()
    assert "closed at" in page.locator("[data-window]").inner_text()
    late = _send_text(world, "too late for free text")
    assert late.status_code == 200, late.text  # accepted, then failed: outside the 24-hour window
    bubble = page.locator(f'.bubble[data-wamid="{late.json()["messages"][0]["id"]}"]')
    bubble.wait_for()
    page.get_by_role("button", name="+1 hour").click()  # the frozen clock moves: the failure falls due
    bubble.locator(".failure", has_text="131047").wait_for()


def test_the_webhook_and_journal_pages_show_what_happened(page: Any, world: dict[str, Any]) -> None:
    _inbound(world, "Anyone there?")
    assert graph(world, "nope/messages", {}).status_code >= 400
    page.goto(f"{world['ui']}/webhooks?field=messages")
    page.locator("details.delivery summary").first.click()
    assert "Anyone there?" in page.locator("details.delivery pre").last.inner_text()
    page.goto(f"{world['ui']}/requests?method=POST")
    assert page.locator("tr.error").count() >= 1
