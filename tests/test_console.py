"""The console line per Graph call and per webhook delivery attempt (issue 16 item 14), from a server run in
process, and its switch (`--quiet`, `WA_SANDBOX_QUIET`)."""

from __future__ import annotations

import asyncio
import io
import re
import threading
import time

import httpx
import pytest

from sandbox import cli
from sandbox.app import create_app
from sandbox.console import Console
from sandbox.context import Sandbox
from sandbox.domain.commands import CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import RecordingTransport, running_server

STAMP = r"\d\d:\d\d:\d\d"
TEMPLATE = {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}}


def lines_of(stream: io.StringIO, count: int) -> list[str]:
    """The console's lines once `count` have been written (they are written in batches, every 0.1 s)."""
    deadline = time.monotonic() + 5
    while len(lines := stream.getvalue().splitlines()) < count and time.monotonic() < deadline:
        threading.Event().wait(0.02)
    return lines


def test_a_line_per_graph_call_and_per_webhook_attempt() -> None:
    sandbox = Sandbox(Settings(seed=3))
    tenant = create_tenant(sandbox, CreateTenant(name="default", webhook_url="http://receiver.test/hook"))
    phone = tenant.document()["phone_number_id"]
    # The receiver refuses the first delivery once: its attempt 1 fails with 500, attempt 2 is delivered.
    answers = iter([500])
    transport = RecordingTransport(answer=lambda _posted: next(answers, 200))
    stream = io.StringIO()
    Console(stream).attach(sandbox)
    auth = {"Authorization": f"Bearer {tenant.credentials.access_token}"}
    tenant.policy.webhooks.retry_seconds = [0.05]
    with running_server(app=create_app(sandbox, transport=transport)) as url:
        sent = httpx.post(
            f"{url}/v23.0/{phone}/messages",
            headers=auth,
            json={"messaging_product": "whatsapp", "to": "+16505551234"} | TEMPLATE,
        )
        assert sent.status_code == 200, sent.text
        wamid = sent.json()["messages"][0]["id"]
        assert httpx.get(f"{url}/v23.0/{phone}/nonexistent_edge", headers=auth).status_code == 400
        assert httpx.get(f"{url}/v23.0/{phone}", headers={"Authorization": "Bearer nope"}).status_code == 401
        lines = lines_of(stream, 5)
    graph = [line for line in lines if "→ webhook" not in line]
    assert re.fullmatch(rf"{STAMP}  default  POST /v23.0/{phone}/messages  200  {re.escape(wamid)}", graph[0])
    assert re.fullmatch(
        rf"{STAMP}  default  GET /v23.0/{phone}/nonexistent_edge  400  #100 Invalid parameter", graph[1]
    )
    assert re.fullmatch(rf"{STAMP}  -  GET /v23.0/{phone}  401  #190 Invalid OAuth access token.*", graph[2])
    hooks = [line for line in lines if "→ webhook" in line]
    assert re.fullmatch(rf"{STAMP}  default  → webhook status sent  500  attempt 1  \d+ ms", hooks[0]), hooks
    assert re.fullmatch(rf"{STAMP}  default  → webhook status sent  200  attempt 2  \d+ ms", hooks[1]), hooks
    assert len(transport.posted) == 1


def test_lines_are_written_in_batches() -> None:
    stream = io.StringIO()
    console = Console(stream, flush_seconds=60)
    for _ in range(3):
        console.graph_call("t", "GET", "/v23.0/1", 200, None)
    assert stream.getvalue().count("\n") == 3  # no event loop here: each is written at once
    stream.truncate(0)

    async def burst() -> str:
        for _ in range(10):
            console.graph_call("t", "GET", "/v23.0/1", 200, None)
        return stream.getvalue()

    assert asyncio.run(burst()) == ""  # waiting for the batch
    console.flush()
    assert stream.getvalue().count("GET /v23.0/1  200") == 10


def test_a_path_cannot_forge_a_line_or_drive_the_terminal() -> None:
    stream = io.StringIO()
    Console(stream).graph_call(None, "GET", "/v23.0/1\n21:00:00  default  POST /x  200\x1b[2J", 400, 100)
    [line] = stream.getvalue().splitlines()
    assert "\\n21:00:00" in line and "\\x1b[2J" in line


def test_a_broken_stdout_does_not_break_the_server() -> None:
    stream = io.StringIO()
    stream.close()
    Console(stream).graph_call("t", "GET", "/v23.0/1", 200, None)


@pytest.fixture
def serving(monkeypatch: pytest.MonkeyPatch) -> list[Sandbox]:
    import uvicorn

    built: list[Sandbox] = []
    original = cli.build_sandbox

    def build(settings: Settings) -> tuple[Sandbox, object]:
        sandbox, tenant = original(settings)
        built.append(sandbox)
        return sandbox, tenant

    monkeypatch.setattr(cli, "build_sandbox", build)
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, *a, **k: None)
    return built


@pytest.mark.parametrize(
    ("argv", "environ", "on"),
    [([], {}, True), (["--quiet"], {}, False), ([], {"WA_SANDBOX_QUIET": "1"}, False)],
    ids=["default", "flag", "environment"],
)
def test_serve_prints_lines_unless_quiet(
    serving: list[Sandbox], monkeypatch: pytest.MonkeyPatch, argv: list[str], environ: dict[str, str], on: bool
) -> None:
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    assert cli.main(["serve", *argv]) == 0
    [sandbox] = serving
    assert (sandbox.console is not None) is on
    assert (sandbox.outbox.console is not None) is on


def test_the_test_fixtures_print_nothing() -> None:
    assert create_app().state.sandbox.console is None
