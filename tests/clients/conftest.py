"""What the docs/clients.md recipe tests share: the recipes read out of the page, a loopback sandbox, and a tenant
that a recipe's receiver is pointed at, with the control-plane steps that drive it."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox.context import Sandbox
from sandbox.settings import Settings
from sandbox.testing import running_server

DOC = Path(__file__).resolve().parents[2] / "docs" / "clients.md"
CUSTOMER = "16505551234"
WAIT = 30.0  # seconds a webhook round trip may take over loopback before the test gives up (not a timing assertion)

_RECIPE = re.compile(r"<!-- recipe: (?P<name>[\w-]+) -->\n```(?P<lang>\w+)\n(?P<code>.*?)\n```", re.DOTALL)


def read_recipes() -> dict[str, tuple[str, str]]:
    """name → (language, code) of every `<!-- recipe: name -->` block in docs/clients.md."""
    return {m["name"]: (m["lang"], m["code"] + "\n") for m in _RECIPE.finditer(DOC.read_text(encoding="utf-8"))}


@dataclass
class RecipeTenant:
    """A fresh tenant on the loopback sandbox, and the steps a user takes around a recipe."""

    http: httpx.Client
    document: dict[str, Any]

    @property
    def env(self) -> dict[str, str]:
        """The variables docs/clients.md tells a user to export."""
        return {
            "WA_SANDBOX_URL": str(self.http.base_url).rstrip("/"),
            "WA_ACCESS_TOKEN": self.document["access_token"],
            "WA_PHONE_NUMBER_ID": self.document["phone_number_id"],
            "WA_APP_SECRET": self.document["app_secret"],
            "WA_VERIFY_TOKEN": self.document["verify_token"],
        }

    def control(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return self.http.request(method, f"/_sandbox/tenants/{self.document['id']}{path}", json=body)

    def point_webhook_at(self, receiver_url: str) -> None:
        """The dashboard step: the sandbox performs Meta's verification GET against the recipe's receiver."""
        answer = self.control("PUT", "/webhook", {"url": receiver_url, "verify_token": self.document["verify_token"]})
        assert answer.status_code == 200, answer.text

    def customer_writes(self, text: str) -> None:
        answer = self.control("POST", "/inbound", {"from": CUSTOMER, "type": "text", "text": {"body": text}})
        assert answer.status_code == 200, answer.text

    def messages(self) -> list[dict[str, Any]]:
        return list(self.control("GET", "/messages").json()["data"])

    def outbound(self, wamid: str) -> dict[str, Any]:
        [message] = [m for m in self.messages() if m["id"] == wamid]
        assert message["direction"] == "outbound" and message["wa_id"] == CUSTOMER
        return message

    def wait_for_reply(self, body: str) -> dict[str, Any]:
        """The outbound text the recipe's webhook handler sent in answer; waits for it over real HTTP."""
        found: list[dict[str, Any]] = []
        done = threading.Event()
        for _ in range(int(WAIT / 0.05)):
            outbound = [m for m in self.messages() if m["direction"] == "outbound"]
            found = [m for m in outbound if (m.get("text") or {}).get("body") == body]
            if found or done.wait(0.05):
                break
        assert found, f"the recipe's handler did not answer {body!r}; messages: {self.messages()}"
        return found[0]

    def forged_webhook_status(self, receiver_url: str) -> int:
        """What the recipe's receiver answers a body its app secret did not sign."""
        body = b'{"object":"whatsapp_business_account","entry":[]}'
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64}
        return httpx.post(receiver_url, content=body, headers=headers, timeout=10).status_code

    def paths(self) -> list[str]:
        return [request["path"] for request in self.control("GET", "/requests").json()["data"]]


@pytest.fixture(scope="session")
def recipes() -> dict[str, tuple[str, str]]:
    return read_recipes()


@pytest.fixture(scope="module")
def recipe_sandbox_url() -> Iterator[str]:
    with running_server(Sandbox(Settings(seed=18))) as url:
        yield url


@pytest.fixture
def recipe_tenant(recipe_sandbox_url: str) -> Iterator[RecipeTenant]:
    with httpx.Client(base_url=recipe_sandbox_url, timeout=10) as http:
        created = http.post("/_sandbox/tenants", json={"clock": {"mode": "frozen"}})
        assert created.status_code == 201, created.text
        tenant = RecipeTenant(http, created.json())
        yield tenant
        tenant.control("DELETE", "")
