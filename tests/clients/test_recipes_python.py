"""docs/clients.md's Python recipes, run as written against a real loopback sandbox.

Each recipe block is executed with the environment the page tells a user to export; it sends a text (the test
finds it in the tenant's message log, on a versioned path), and its `app` is served on a loopback port as the
tenant's webhook receiver: the sandbox's verification GET must pass, and a customer's "ping" must come back as
the handler's "You said: ping".
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.testing import running_server

pytestmark = pytest.mark.server


def run_recipe(recipes: dict[str, tuple[str, str]], name: str, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]):
    language, code = recipes[name]
    assert language == "python"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    namespace: dict[str, Any] = {"__name__": f"recipe_{name.replace('-', '_')}"}
    exec(compile(code, f"docs/clients.md#{name}", "exec"), namespace)
    return namespace


def sent_wamid(name: str, sent: Any) -> str:
    if name == "pywa":
        return str(sent.id)
    return str(sent["messages"][0]["id"])


@pytest.mark.parametrize("name", ["pywa", "heyoo", "whatsapp-python"])
def test_python_recipe_sends_and_answers_webhooks(name: str, recipes, recipe_tenant, monkeypatch) -> None:
    namespace = run_recipe(recipes, name, monkeypatch, recipe_tenant.env)

    sent = recipe_tenant.outbound(sent_wamid(name, namespace["sent"]))
    assert sent["text"]["body"].startswith("Hello from ")
    assert all(path.startswith("/v") for path in recipe_tenant.paths()), recipe_tenant.paths()

    with running_server(app=namespace["app"]) as receiver_url:
        recipe_tenant.point_webhook_at(f"{receiver_url}/")
        recipe_tenant.customer_writes("ping")
        reply = recipe_tenant.wait_for_reply("You said: ping")
    assert reply["wa_id"] == "16505551234"
    if "session" in namespace:
        namespace["session"].close()


def test_every_recipe_on_the_page_is_tested(recipes) -> None:
    assert sorted(recipes) == sorted(["pywa", "heyoo", "whatsapp-python", "whatsapp-api-js", "kapso", "great-detail"])
