"""pytest plugin (entry point `wa_sandbox`): fixtures for an in-process sandbox, a fresh tenant, a real server.

Installing the package is enough; fixtures are prefixed `wa_` so they never clash with a project's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from sandbox.context import Sandbox
from sandbox.settings import Settings
from sandbox.testing import RecordingTransport, SandboxClient, running_server

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def wa_transport() -> RecordingTransport:
    """Records every webhook the in-process sandbox delivers."""
    return RecordingTransport()


@pytest.fixture
def wa_sandbox() -> Sandbox:
    return Sandbox(Settings(seed=7))


@pytest.fixture
def wa_client(wa_sandbox: Sandbox, wa_transport: RecordingTransport) -> Iterator[SandboxClient]:
    """A fresh tenant on an in-process sandbox with a frozen clock at 2026-01-05T09:00Z, webhooks recorded."""
    from starlette.testclient import TestClient

    from sandbox.app import create_app
    from sandbox.services.tenants import create_tenant

    tenant = create_tenant(wa_sandbox, name="test", start=START, clock={"mode": "frozen"},
                           webhook={"url": "http://receiver.test/webhook"})
    with TestClient(create_app(wa_sandbox, transport=wa_transport)) as http:
        yield SandboxClient(http, tenant.id)


@pytest.fixture
def wa_server_url() -> Iterator[str]:
    """A real sandbox server on a loopback port (default tenant), for clients that need a socket."""
    with running_server() as url:
        yield url


@pytest.fixture
def wa_server_client(wa_server_url: str) -> Iterator[SandboxClient]:
    with httpx.Client(base_url=wa_server_url, timeout=10) as http:
        created = http.post("/_sandbox/tenants", json={"clock": {"mode": "frozen"}}).json()
        yield SandboxClient(http, created["id"])
