from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ReceiveMessage, SendMessage
from sandbox.domain.message import Message
from sandbox.services.messaging import receive_message, send_message
from sandbox.testing import RecordingTransport, free_port


@contextlib.contextmanager
def serve(app: Any, port: int | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """Like sandbox.testing.running_server, on a port of our choosing, so a receiver can come back at its URL."""
    port = port or free_port(host)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="error", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    try:
        for _ in range(1000):
            if server.started:
                break
            started.wait(0.01)
        assert server.started, "the server did not start"
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def serve_app() -> Any:
    return serve


class OutboxRunner:
    """Runs the shared outbox's workers inside the test's event loop; `settle` waits until nothing is ready."""

    def __init__(self, sandbox: Sandbox, transport: RecordingTransport) -> None:
        self.sandbox = sandbox
        self.transport = transport
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> OutboxRunner:
        self._task = asyncio.create_task(self.sandbox.outbox.run(self.transport, 4))
        await self.settle()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def settle(self) -> None:
        for _ in range(100_000):
            await asyncio.sleep(0)
            # What the server's ticker does: fire what is due on the (frozen) tenant clocks.
            self.sandbox.run_due()
            if self.sandbox.outbox.idle():
                return
        raise AssertionError("the outbox did not settle")


@pytest.fixture
def outbox_runner(sandbox: Sandbox, transport: RecordingTransport) -> OutboxRunner:
    return OutboxRunner(sandbox, transport)


def text_to(tenant: Tenant, to: str = "16505551234", body: str = "Hello") -> Message:
    phone_number_id = tenant.document()["phone_number_id"]
    return send_message(tenant, SendMessage(phone_number_id, to, "text", {"body": body}))


def customer_writes(tenant: Tenant, wa_id: str = "16505551234", body: str = "Hi") -> Message:
    return receive_message(tenant, ReceiveMessage(wa_id, "text", {"body": body}, profile_name="Sheena Nelson"))


@pytest.fixture
def send_text() -> Any:
    return text_to


@pytest.fixture
def inbound() -> Any:
    return customer_writes
