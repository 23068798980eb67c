"""A reset rebuilds `default` as the server was started; every callback URL passes Meta's handshake unless refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.app import create_app
from sandbox.context import Sandbox
from sandbox.services.tenants import create_tenant, default_tenant
from sandbox.settings import Settings
from sandbox.testing import InProcessClient, RecordingTransport, check_sandbox_error
from sandbox.webhooks.transport import Answer

STARTED = Settings(seed=4, profile="trial", webhook_url="http://receiver.test/hook", verify_token="s3cret")


@pytest.fixture
def refusing() -> RecordingTransport:
    """A receiver that answers every verification GET with 404, as where nothing is mounted."""
    return RecordingTransport(challenge_answer=lambda url, params: Answer(404, "Not Found"))


@pytest.fixture
def http(refusing: RecordingTransport) -> Iterator[InProcessClient]:
    sandbox = Sandbox(STARTED)
    create_tenant(sandbox, default_tenant(STARTED))
    with InProcessClient(create_app(sandbox, transport=refusing)) as client:
        yield client


def test_a_reset_rebuilds_default_with_the_servers_callback_and_verify_token(http: InProcessClient) -> None:
    http.put("/_sandbox/tenants/default/webhook", json={"url": None})
    http.post("/_sandbox/tenants/default/clock", json={"mode": "frozen", "now": "2031-01-01T00:00:00Z"})
    document = http.post("/_sandbox/reset", json={}).json()
    assert document["webhook"] == {"url": "http://receiver.test/hook", "verify_token": "s3cret"}
    assert document["profile"] == "trial"
    assert document["clock"]["mode"] == "realtime" and not document["clock"]["now"].startswith("2031")


def test_a_tenant_reset_may_start_its_new_world_earlier(http: InProcessClient) -> None:
    http.post("/_sandbox/tenants/default/clock", json={"now": "2031-01-01T00:00:00Z"})
    clock = {"now": "2026-01-05T09:00:00Z", "mode": "frozen", "rate": 2}
    document = http.post("/_sandbox/tenants/default/reset", json={"clock": clock}).json()
    assert document["clock"]["now"].startswith("2026-01-05T09:00:00")
    assert (document["clock"]["mode"], document["clock"]["rate"]) == ("frozen", 2)
    assert document["webhook"]["verify_token"] == "s3cret"
    check_sandbox_error(http.post("/_sandbox/tenants/default/reset", json={"colour": "red"}), 400)


def test_creating_a_tenant_performs_the_handshake_as_put_webhook_does(http: InProcessClient) -> None:
    body = {"name": "t", "webhook": {"url": "http://127.0.0.1:9/nothing", "verify_token": "v"}}
    error = check_sandbox_error(http.post("/_sandbox/tenants", json=body), 400)
    assert "verification failed" in error["message"]
    assert http.get("/_sandbox/tenants/t").status_code == 404
    put = http.put("/_sandbox/tenants/default/webhook", json={"url": "http://127.0.0.1:9/nothing"})
    assert "verification failed" in check_sandbox_error(put, 400)["message"]


def test_verify_false_saves_a_callback_for_a_receiver_started_later(http: InProcessClient) -> None:
    body = {"name": "t", "webhook": {"url": "http://127.0.0.1:9/later", "verify": False}}
    created = http.post("/_sandbox/tenants", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["webhook"]["url"] == "http://127.0.0.1:9/later"
    check_sandbox_error(http.post("/_sandbox/tenants", json={"webhook": {"url": "x", "verify": "no"}}), 400)


def test_the_handshake_sends_the_given_verify_token() -> None:
    seen: list[dict[str, str]] = []

    def echo(url: str, params: dict[str, str]) -> Answer:
        seen.append(dict(params))
        return Answer(200, params["hub.challenge"])

    with InProcessClient(
        create_app(Sandbox(Settings(seed=1)), transport=RecordingTransport(challenge_answer=echo))
    ) as h:
        created = h.post(
            "/_sandbox/tenants", json={"name": "t", "webhook": {"url": "http://r.test/", "verify_token": "v"}}
        )
    assert created.status_code == 201, created.text
    assert seen[0]["hub.mode"] == "subscribe" and seen[0]["hub.verify_token"] == "v"
