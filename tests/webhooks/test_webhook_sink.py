"""The webhook sink (sandbox.testing.WebhookSink) and the receiver grader (`wa-sandbox check-webhook`)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.testclient import TestClient

from sandbox.cli import build_parser
from sandbox.grader import check_webhook
from sandbox.testing import WebhookSink
from sandbox.webhooks.signing import meta_json, signed_headers

SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "verify-me"


def _post(client: TestClient, body: bytes, headers: dict[str, str]) -> int:
    return client.post("/hook", content=body, headers=headers).status_code


def test_the_sink_answers_the_handshake_only_for_its_token() -> None:
    sink = WebhookSink(app_secret=SECRET, verify_token=TOKEN)
    with TestClient(sink) as client:
        ok = client.get(
            "/hook", params={"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": TOKEN}
        )
        assert (ok.status_code, ok.text) == (200, "1158201444")
        wrong = client.get("/hook", params={"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "x"})
        assert wrong.status_code == 403
    assert len(sink.handshakes) == 2


def test_the_sink_verifies_signatures_and_records() -> None:
    sink = WebhookSink(app_secret=SECRET)
    body = meta_json({"object": "whatsapp_business_account", "entry": []})
    with TestClient(sink) as client:
        assert _post(client, body, signed_headers(SECRET, body)) == 200
        assert _post(client, body, signed_headers("other-secret", body)) == 403
        assert _post(client, body, {"Content-Type": "application/json"}) == 401
    assert [item.signature_ok for item in sink.received] == [True, False, False]
    assert [item.json() for item in sink.accepted] == [{"object": "whatsapp_business_account", "entry": []}]


def test_the_sink_answers_as_told() -> None:
    sink = WebhookSink(app_secret=SECRET, slow_seconds=0.01)
    body = meta_json({"entry": []})
    headers = signed_headers(SECRET, body)
    sink.answer_next("error", times=2)
    sink.answer_next("slow")
    with TestClient(sink) as client:
        assert [_post(client, body, headers) for _ in range(4)] == [500, 500, 200, 200]
    assert len(sink.accepted) == 2
    with pytest.raises(ValueError):
        sink.answer_next("explode")  # type: ignore[arg-type]


@pytest.mark.server
def test_a_dropping_sink_makes_the_sender_time_out(serve_app: Any) -> None:
    import aiohttp

    sink = WebhookSink(mode="drop", drop_seconds=5)

    async def post(url: str) -> str:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.post(url, data=b"{}", timeout=aiohttp.ClientTimeout(total=0.3)):
                    return "answered"
            except TimeoutError:
                return "timeout"

    with serve_app(sink) as url:
        assert asyncio.run(post(url + "/hook")) == "timeout"
        assert sink.wait_for(lambda s: len(s.received) == 1)
    assert sink.received[0].answer is None


@pytest.mark.server
def test_the_grader_passes_a_good_receiver(serve_app: Any) -> None:
    with serve_app(WebhookSink(app_secret=SECRET, verify_token=TOKEN)) as url:
        report = asyncio.run(check_webhook(url + "/hook", SECRET, TOKEN, burst=50))
    assert report.passed, report.render()
    assert {c.verdict for c in report.checks} == {"pass"}
    names = [c.name for c in report.checks]
    assert names == [
        "handshake, right token",
        "handshake, wrong token",
        "signed payload",
        "wrongly signed payload",
        "unsigned payload",
        "duplicate delivery",
        "statuses out of order",
        "several changes in one POST",
        "burst",
        "answer latency",
    ]


class CarelessReceiver:
    """Echoes any challenge, never checks a signature, and chokes on a second copy of a payload."""

    def __init__(self) -> None:
        self.seen: set[bytes] = set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":
            from urllib.parse import parse_qs

            challenge = parse_qs(scope["query_string"].decode()).get("hub.challenge", [""])[0].encode()
            await self._answer(send, 200, challenge)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status = 500 if body in self.seen else 200
        self.seen.add(body)
        await self._answer(send, status, b"")

    @staticmethod
    async def _answer(send: Any, status: int, body: bytes) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": body})


@pytest.mark.server
def test_the_grader_catches_a_careless_receiver(serve_app: Any) -> None:
    with serve_app(CarelessReceiver()) as url:
        report = asyncio.run(check_webhook(url + "/hook", SECRET, TOKEN, burst=10))
    verdicts = {c.name: c.verdict for c in report.checks}
    assert not report.passed
    assert verdicts["handshake, wrong token"] == "fail"
    assert verdicts["wrongly signed payload"] == "fail"
    assert verdicts["unsigned payload"] == "fail"
    assert verdicts["duplicate delivery"] == "fail"
    assert verdicts["handshake, right token"] == "pass"
    assert "NOT READY" in report.render()


@pytest.mark.server
def test_check_webhook_is_a_cli_subcommand(serve_app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    arguments = build_parser().parse_args(
        ["check-webhook", "URL", "--app-secret", SECRET, "--verify-token", TOKEN, "--burst", "5"]
    )
    with serve_app(WebhookSink(app_secret=SECRET, verify_token=TOKEN)) as url:
        arguments.url = url
        assert arguments.handler(arguments) == 0
    out = capsys.readouterr().out
    assert "PASS  handshake, right token" in out and "0 failed" in out
