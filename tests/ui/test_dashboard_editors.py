"""The dashboard's editors and lists in headless Chromium against a real server: the policy and fault forms, a file
sent as the customer, what each card waits for, and the journals' filters."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.sink import WebhookSink
from tests.ui.conftest import TEMPLATE, graph, inbound, new_world, screenshot, send_text

pytestmark = pytest.mark.server
CUSTOMER = "16505551234"
OTHER = "16505559876"


def _png(width: int = 96, height: int = 64) -> bytes:
    """A small real PNG (a green gradient), so the thread shows it as the image it is."""
    rows = b"".join(b"\x00" + b"".join(bytes([7, 94 + x, 84 + y]) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _control(world: dict[str, Any], path: str) -> Any:
    answer = world["http"].get(f"/_sandbox/tenants/{world['tenant']['id']}/{path}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_policy_knob_set_in_its_form_applies_and_a_bad_value_is_refused_beside_it(
    page: Any, world: dict[str, Any]
) -> None:
    fault = {"match": {"template": "order_update"}, "http_status": 503, "times": 2}
    world["http"].post(f"/_sandbox/tenants/{world['tenant']['id']}/faults", json=fault).raise_for_status()
    page.goto(f"{world['ui']}/settings")
    knob = page.get_by_label("read_probability", exact=True)
    assert knob.input_value() == "1"  # the current value
    assert knob.get_attribute("min") == "0" and knob.get_attribute("max") == "1"  # the knob's declared bounds
    knob.fill("0.25")
    page.get_by_role("button", name="Apply messages").click()
    page.locator('details[data-group="messages"] form > output.ok').wait_for()
    assert _control(world, "policy")["messages"]["read_probability"] == 0.25

    knob.fill("5")
    page.get_by_role("button", name="Apply messages").click()
    beside = page.locator("#f-messages-read-probability-err")
    beside.wait_for()
    assert "messages.read_probability must be a number from 0 to 1" in beside.inner_text()
    assert knob.get_attribute("aria-invalid") == "true"
    assert _control(world, "policy")["messages"]["read_probability"] == 0.25  # refused: nothing changed
    screenshot(page, "settings")

    page.locator('details[data-group="limits"] > summary').press("Enter")  # opened from the keyboard
    page.locator('details[data-group="limits"][open]').wait_for()
    page.locator("#f-limits-throughput-mps-STANDARD").fill("5")
    page.get_by_role("button", name="Apply limits").click()
    page.locator('details[data-group="limits"] form > output.ok').wait_for()
    assert _control(world, "policy")["limits"]["throughput_mps"]["STANDARD"] == 5
    page.reload()
    assert page.get_by_label("read_probability", exact=True).input_value() == "0.25"


def test_a_fault_added_in_its_form_fails_a_send_with_its_code_until_it_is_removed(
    page: Any, world: dict[str, Any]
) -> None:
    inbound(world, CUSTOMER, "hello")  # the window is open: free text may be sent
    page.goto(f"{world['ui']}/settings")
    page.get_by_label("http_status").fill("700")
    page.get_by_role("button", name="Add fault", exact=True).click()
    beside = page.locator("#f-http-status-err")
    beside.wait_for()
    assert "http_status must be an HTTP error status between 400 and 599" in beside.inner_text()
    assert not _control(world, "faults")["data"]

    page.get_by_label("http_status").fill("")
    page.locator("#f-match-type").fill("text")
    page.locator("#f-error-code").select_option("130429")
    page.locator("#f-error-mode").select_option("sync")
    page.get_by_role("button", name="Add fault", exact=True).click()
    page.locator("tr[data-fault]").wait_for()
    failed = send_text(world, CUSTOMER, "are you there?")
    assert failed.status_code >= 400 and failed.json()["error"]["code"] == 130429, failed.text

    page.get_by_role("button", name=re.compile("^Remove fault-")).click()
    page.get_by_text("No faults").wait_for()
    assert send_text(world, CUSTOMER, "are you there?").status_code == 200


def test_an_image_sent_as_the_customer_reaches_the_receiver_with_a_media_id_the_business_downloads(
    page: Any, world: dict[str, Any], wa_sink: WebhookSink
) -> None:
    image = _png()
    inbound(world, CUSTOMER, "Here is the receipt")
    reply = send_text(world, CUSTOMER, "Thanks, please send a photo of it.")
    assert reply.status_code == 200, reply.text
    page.goto(f"{world['ui']}/chats/{CUSTOMER}")
    page.get_by_text("a file (image, document").click()
    page.get_by_label("File", exact=True).set_input_files(
        {"name": "receipt.png", "mimeType": "image/png", "buffer": image}
    )
    page.get_by_label("Caption", exact=True).fill("the receipt")
    page.get_by_role("button", name="Send the file").click()
    page.locator("form.upload output.ok").wait_for()

    def images(sink: WebhookSink) -> list[dict[str, Any]]:
        return [
            message
            for payload in sink.payloads()
            for entry in payload["entry"]
            for change in entry["changes"]
            for message in change["value"].get("messages", [])
            if message["type"] == "image"
        ]

    assert wa_sink.wait_for(lambda sink: bool(images(sink)))
    sent = images(wa_sink)[0]["image"]
    assert sent["caption"] == "the receipt" and sent["mime_type"] == "image/png"
    found = graph(world, sent["id"])
    assert found.status_code == 200, found.text
    download = graph(world, found.json()["url"])
    assert download.status_code == 200 and download.content == image
    page.locator(".bubble.in img.media").wait_for()  # the thread shows the picture
    screenshot(page, "conversation")


@pytest.fixture
def trial(wa_server_url: str, wa_sink: WebhookSink) -> Iterator[dict[str, Any]]:
    """A tenant of the trial profile on a frozen clock: the trial's limits and days are running."""
    yield from new_world(wa_server_url, wa_sink, {"profile": "trial"})


def test_the_cards_say_what_each_waits_for_and_move_when_the_clock_advances(page: Any, trial: dict[str, Any]) -> None:
    created = graph(trial, f"{trial['tenant']['waba_id']}/message_templates", TEMPLATE)
    assert created.status_code == 200, created.text
    review = next(r for r in _control(trial, "reviews")["data"] if r["target"] == created.json()["id"])
    page.goto(trial["ui"])
    template = page.locator('[data-card="template"][data-name="order_ready"]')
    assert f"review due at {review['due_at']}" in template.locator(".waiting").inner_text()
    number = page.locator(f'[data-card="number"][data-id="{trial["tenant"]["phone_number_id"]}"]')
    waits = number.locator(".waiting").inner_text()
    assert "trial: 30 days left" in waits and "trial recipients 0 of 2" in waits and "customers 0 of 10" in waits
    business = page.locator('[data-card="business"] .waiting').inner_text()
    assert "messaging limit TIER_250: 0 of 250 customers in the rolling 24 hours" in business
    screenshot(page, "tenant")

    page.get_by_role("button", name="+1 day").click()
    number.locator(".waiting", has_text="trial: 29 days left").wait_for()  # the live cards moved with the clock
    template.locator(".waiting").wait_for(state="detached")  # the review fell due and was decided
    assert template.locator("b[class^=status-]").inner_text() in ("APPROVED", "REJECTED")


def test_the_filters_narrow_the_journals_as_the_control_plane_does(page: Any, world: dict[str, Any]) -> None:
    inbound(world, CUSTOMER, "first customer")
    inbound(world, OTHER, "second customer")
    assert send_text(world, CUSTOMER, "answer").status_code == 200
    assert graph(world, "nope/messages", {}).status_code >= 400

    page.goto(f"{world['ui']}/webhooks")
    everything = page.locator("details.delivery").count()
    page.get_by_label("To (customer)").fill(f"+{OTHER}")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"to=%2B" + OTHER))
    narrowed = _control(world, f"webhooks?to={OTHER}")["data"]
    assert 0 < page.locator("details.delivery").count() == len(narrowed) < everything
    assert {d["id"] for d in narrowed} == {
        page.locator("details.delivery").nth(i).get_attribute("data-delivery") for i in range(len(narrowed))
    }
    page.locator("details.delivery summary").first.click()
    screenshot(page, "webhooks")
    page.get_by_label("Since").fill("not a time")
    page.get_by_role("button", name="Filter").click()
    page.locator("#filter-problem", has_text="since must be an RFC 3339 time").wait_for()

    page.goto(f"{world['ui']}/requests")
    page.get_by_label("HTTP status").fill("200")
    page.get_by_label("Method").select_option("POST")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile("status=200"))
    ok = _control(world, "requests?status=200&method=POST")["data"]
    assert page.locator("table.journal tbody tr").count() == len(ok) >= 1
    assert page.locator("tr.error").count() == 0
    page.get_by_label("HTTP status").fill("")
    page.get_by_role("button", name="Filter").click()
    page.locator("tr.error").first.wait_for()
    screenshot(page, "requests")


def test_every_page_fits_a_phone_and_every_input_has_a_label(browser: Any, world: dict[str, Any]) -> None:
    inbound(world, CUSTOMER, "a message long enough to wrap on a narrow screen, and then some more words")
    assert graph(world, "nope/messages", {}).status_code >= 400
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    unlabelled = """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter((e) => !e.labels.length && !e.getAttribute('aria-label')).map((e) => e.outerHTML.slice(0, 120))"""
    try:
        for path in ("", f"/chats/{CUSTOMER}", "/reviews", "/webhooks", "/requests", "/settings"):
            page.goto(world["ui"] + path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
            assert page.evaluate(unlabelled) == [], path
    finally:
        context.close()
