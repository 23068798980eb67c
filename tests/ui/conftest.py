"""Headless Chromium for the dashboard's browser tests: Debian's `chromium` driven by Playwright (no browser
download). Where either is missing the tests are skipped, saying which; under CI (`CI=true`) they fail instead."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.sink import WebhookSink

TEMPLATE = {
    "name": "order_ready",
    "language": "en_US",
    "category": "UTILITY",
    "components": [{"type": "BODY", "text": "Your order is ready for pickup."}],
}
CHROMIUM = os.environ.get("WA_CHROMIUM", "/usr/bin/chromium")
# Set to a folder (docs/dashboard) to have the tests write screenshots of the main pages there.
SCREENSHOTS = os.environ.get("WA_DASHBOARD_SCREENSHOTS")


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[ui-test]')"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium, or set WA_CHROMIUM)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"browser tests cannot run under CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def world(wa_server_url: str, wa_sink: WebhookSink) -> Iterator[dict[str, Any]]:
    """A fresh tenant (frozen clock) whose callback is the sink, and an httpx client for the Graph API."""
    yield from new_world(wa_server_url, wa_sink, {})


def new_world(server: str, sink: WebhookSink, extra: dict[str, Any]) -> Iterator[dict[str, Any]]:
    with httpx.Client(base_url=server, timeout=10) as http:
        body = {"clock": {"mode": "frozen"}, "webhook": {"url": sink.url}} | extra  # type: ignore[attr-defined]
        created = http.post("/_sandbox/tenants", json=body)
        assert created.status_code == 201, created.text
        tenant = created.json()
        yield {"http": http, "tenant": tenant, "ui": f"{server}/_sandbox/ui/tenants/{tenant['id']}"}


def graph(world: dict[str, Any], path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    """A Graph call as the tenant's app: POST with `body`, GET without."""
    tenant = world["tenant"]
    headers = {"Authorization": f"Bearer {tenant['access_token']}"}
    url = path if path.startswith("http") else f"/{tenant['graph_version']}/{path}"
    if body is None:
        return world["http"].get(url, headers=headers)
    return world["http"].post(url, json=body, headers=headers)


def send_text(world: dict[str, Any], to: str, text: str) -> httpx.Response:
    body = {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": text}}
    return graph(world, f"{world['tenant']['phone_number_id']}/messages", body)


def inbound(world: dict[str, Any], wa_id: str, text: str) -> None:
    """The customer `wa_id` writes `text` (control plane `inbound`)."""
    body = {"from": wa_id, "type": "text", "text": {"body": text}}
    world["http"].post(f"/_sandbox/tenants/{world['tenant']['id']}/inbound", json=body).raise_for_status()


def screenshot(page: Any, name: str) -> None:
    """Writes `name`.png into WA_DASHBOARD_SCREENSHOTS when it is set (docs/dashboard.md shows them)."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)
