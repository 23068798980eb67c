from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import RecordingTransport

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=200, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.getenv("HYPOTHESIS_PROFILE", "dev"))

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CALLBACK = "http://receiver.test/webhook"


class _ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def _no_sandbox_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test fails when the sandbox logs an error it did not expect (a failed scheduled callback, a webhook that
    could not be rendered): such failures never reach a response, so without this no test would see them.
    Tests that provoke one on purpose are marked `sandbox_errors`."""
    handler = _ErrorRecords()
    logger = logging.getLogger("sandbox")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    if handler.records and request.node.get_closest_marker("sandbox_errors") is None:
        messages = "\n".join(f"{r.name}: {r.getMessage()} {r.exc_text or ''}" for r in handler.records)
        pytest.fail(f"the sandbox logged errors:\n{messages}")


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(Settings(seed=7))


@pytest.fixture
def tenant(sandbox: Sandbox) -> Tenant:
    """The `live` profile on a frozen clock, immediate progression, a callback URL set."""
    created = create_tenant(
        sandbox, CreateTenant(name="t1", clock=ConfigureClock(mode="frozen"), webhook_url=CALLBACK), start=START
    )
    created.policy.messages.progression = "immediate"
    return created


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def client(sandbox: Sandbox, tenant: Tenant, transport: RecordingTransport) -> Iterator[TestClient]:
    with TestClient(create_app(sandbox, transport=transport)) as test_client:
        yield test_client


@pytest.fixture
def auth(tenant: Tenant) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.credentials.access_token}"}


@pytest.fixture
def phone_number_id(tenant: Tenant) -> str:
    return tenant.document()["phone_number_id"]
