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
        if name != "whatsapp-python":  # the one that checks no signature (docs/clients.md says so)
            assert recipe_tenant.forged_webhook_status(f"{receiver_url}/") in (401, 403)
    assert reply["wa_id"] == "16505551234"
    if "session" in namespace:
        namespace["session"].close()


def test_every_recipe_on_the_page_is_tested(recipes) -> None:
    assert sorted(recipes) == sorted(["pywa", "heyoo", "whatsapp-python", "whatsapp-api-js", "kapso", "great-detail"])


def test_pywa_session_base_url_alone_still_targets_meta(recipe_tenant) -> None:
    """Why the pywa recipe sets `base_url` after the constructor: pywa overwrites the one it is given."""
    import httpx
    from pywa import WhatsApp

    with httpx.Client(base_url=recipe_tenant.env["WA_SANDBOX_URL"]) as session:
        WhatsApp(phone_id="1", token="t", session=session, api_version="23.0")
        assert session.base_url.host == "graph.facebook.com"


# whatsapp-python's upload_media opens the file and never closes it.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_whatsapp_python_media_reaches_the_sandbox_and_send_helpers_do_not(
    recipes, recipe_tenant, monkeypatch, tmp_path
) -> None:
    """What docs/clients.md says of whatsapp-python: media calls follow `base_url`; `send_*` build Meta's URL inline."""
    from unittest import mock

    import requests

    wa = run_recipe(recipes, "whatsapp-python", monkeypatch, recipe_tenant.env)["wa"]
    image = tmp_path / "photo.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(64)))
    uploaded = wa.upload_media(str(image))
    assert wa.query_media_url(uploaded["id"]).startswith(recipe_tenant.env["WA_SANDBOX_URL"])
    assert wa.delete_media(uploaded["id"]) == {"success": True}

    answer = mock.Mock(status_code=200, json=lambda: {})
    with mock.patch.object(requests, "post", return_value=answer) as post:
        wa.send_template("hello_world", "16505551234", components=[])
        wa.create_message(to="16505551234", content="Hello").send()
    assert [call.args[0].split("/")[2] for call in post.call_args_list] == ["graph.facebook.com"] * 2
