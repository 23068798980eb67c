"""pytest plugin (entry point `wa_sandbox`): fixtures for an in-process sandbox, a fresh tenant, a real server.

Installing the package is enough; fixtures are prefixed `wa_` so they never clash with a project's own. Scenario
files (`*.yaml` under a directory named `scenarios`, with `rules:` and `steps:`) are collected as tests; the
`scenarios` package is imported lazily, only by the fixtures and items that use it.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from sandbox.context import Sandbox, Tenant
from sandbox.settings import Settings
from sandbox.testing import InProcessClient, RecordingTransport, SandboxClient, running_server

if TYPE_CHECKING:
    from sandbox.sink import WebhookSink
    from scenarios.python import Session

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
    from sandbox.app import create_app
    from sandbox.domain.commands import ConfigureClock, CreateTenant
    from sandbox.services.tenants import create_tenant

    tenant = create_tenant(
        wa_sandbox,
        CreateTenant(name="test", clock=ConfigureClock(mode="frozen"), webhook_url="http://receiver.test/webhook"),
        start=START,
    )
    with InProcessClient(create_app(wa_sandbox, transport=wa_transport)) as http:
        yield SandboxClient(http, tenant.id)


@pytest.fixture
def wa_server_url() -> Iterator[str]:
    """A real sandbox server on a loopback port (default tenant), for clients that need a socket; with
    `WA_SANDBOX_WORKERS=N` (N > 1) a `serve --workers N` server, shards behind HAProxy (docs/deployment.md)."""
    workers = Settings.from_env(os.environ).workers
    if workers > 1:
        from sandbox.cluster.workers import running_workers

        with running_workers(workers) as (url, _):
            yield url
        return
    with running_server() as url:
        yield url


@pytest.fixture
def wa_server_client(wa_server_url: str) -> Iterator[SandboxClient]:
    with httpx.Client(base_url=wa_server_url, timeout=10) as http:
        created = http.post("/_sandbox/tenants", json={"clock": {"mode": "frozen"}}).json()
        yield SandboxClient(http, created["id"])


# -- a tenant's clock, its webhooks, a real receiver, and the scenario vocabulary ----------------------------------


class WaClock:
    """The tenant clock over the control plane: `advance("31d")`, `now()`, `set(now=...)`."""

    def __init__(self, client: SandboxClient) -> None:
        self.client = client

    def now(self) -> datetime:
        from sandbox.clock import parse_rfc3339

        return parse_rfc3339(self.client.control("GET", "/clock").json()["now"])

    def advance(self, duration: str | float) -> dict[str, Any]:
        from scenarios.values import parse_duration

        response = self.client.advance(parse_duration(duration))
        response.raise_for_status()
        return dict(response.json())

    def set(self, **fields: Any) -> dict[str, Any]:
        response = self.client.control("POST", "/clock", fields)
        response.raise_for_status()
        return dict(response.json())


class WebhookLog:
    """What the platform sent by webhook, read from the tenant's delivery log (works with or without a receiver)."""

    def __init__(self, client: SandboxClient) -> None:
        self.client = client

    def events(self) -> list[dict[str, Any]]:
        """One record per status / inbound message / other change, oldest first (`kind`, `wamid`, `status` ...)."""
        from scenarios.expectations import webhook_events

        return webhook_events(list(reversed(self.client.webhooks(limit=100000))))

    def statuses(self, wamid: str) -> list[str]:
        return [e["status"] for e in self.events() if e["kind"] == "status" and e["wamid"] == wamid]

    def inbound(self, wa_id: str) -> list[str]:
        return [e["type"] for e in self.events() if e["kind"] == "message" and e["from"] == wa_id]

    def expect(self, **checks: Any) -> list[Any]:
        """The scenario step `expect_webhooks` (same keys); raises `AssertionError` with a readable report."""
        from scenarios.python import Session

        return list(Session(self.client.http, self.client.document).expect_webhooks(**checks))


@pytest.fixture
def wa_tenant(wa_sandbox: Sandbox, wa_client: SandboxClient) -> Tenant:
    """The in-process tenant object behind `wa_client` (its store, policy and clock)."""
    return wa_sandbox.tenants[wa_client.tenant]


@pytest.fixture
def wa_clock(wa_client: SandboxClient) -> WaClock:
    return WaClock(wa_client)


@pytest.fixture
def wa_webhooks(wa_client: SandboxClient) -> WebhookLog:
    return WebhookLog(wa_client)


@pytest.fixture
def wa_sink() -> Iterator[WebhookSink]:
    """A real webhook receiver on a loopback port; its URL is `wa_sink.url`."""
    from sandbox.sink import WebhookSink

    sink = WebhookSink()
    with running_server(app=sink) as url:
        sink.url = f"{url}/webhook"  # type: ignore[attr-defined]
        yield sink


@pytest.fixture
def wa_sink_client(wa_server_url: str, wa_sink: WebhookSink) -> Iterator[SandboxClient]:
    """A fresh tenant on the loopback server whose callback is `wa_sink` (frozen clock)."""
    with httpx.Client(base_url=wa_server_url, timeout=10) as http:
        created = http.post(
            "/_sandbox/tenants",
            json={
                "clock": {"mode": "frozen"},
                "webhook": {"url": wa_sink.url},  # type: ignore[attr-defined]
            },
        ).json()
        yield SandboxClient(http, created["id"])


@pytest.fixture
def wa_scenario(wa_client: SandboxClient, wa_transport: RecordingTransport) -> Session:
    """The scenario step vocabulary, run at once on `wa_client`'s tenant: `wa_scenario.send(to=..., text=...)`."""
    from scenarios.context import Receiver
    from scenarios.python import Session

    receiver = Receiver()
    wa_transport.answer = receiver.answer
    return Session(wa_client.http, wa_client.document, receiver=receiver)


@pytest.fixture
def wa_server_scenario(wa_sink_client: SandboxClient, wa_sink: WebhookSink) -> Session:
    """The scenario steps against a real loopback server, webhooks going to `wa_sink`."""
    from scenarios.context import Receiver
    from scenarios.python import Session

    return Session(wa_sink_client.http, wa_sink_client.document, receiver=Receiver(sink=wa_sink), wait=2.0)


# -- a prepared world restored before each test ----------------------------------------------------------------


@functools.cache
def _snapshot_file(path: str) -> Any:
    from sandbox.store.snapshots import parse_export
    from sandbox.version import __version__

    # Read and parsed once per session: each test then only unpickles the world (docs/persistence.md).
    return parse_export(Path(path).read_bytes(), __version__)


@pytest.fixture
def wa_snapshot(request: pytest.FixtureRequest, wa_transport: RecordingTransport) -> Iterator[SandboxClient]:
    """A client of an in-process sandbox restored from an exported snapshot file, afresh before each test: the
    file of `@pytest.mark.wa_snapshot(path)`, else of the `wa_snapshot` ini option (paths from the rootdir)."""
    from sandbox.app import create_app
    from sandbox.services.snapshots import restore_snapshot

    marker = request.node.get_closest_marker("wa_snapshot")
    path = marker.args[0] if marker is not None and marker.args else request.config.getini("wa_snapshot")
    if not path:
        pytest.fail("wa_snapshot needs a snapshot file: @pytest.mark.wa_snapshot(path) or the wa_snapshot ini option")
    sandbox = Sandbox(Settings(seed=7))
    restored = restore_snapshot(sandbox, _snapshot_file(str(request.config.rootpath / path)))
    tenant = "default" if "default" in sandbox.tenants else restored[0].id
    with InProcessClient(create_app(sandbox, transport=wa_transport)) as http:
        yield SandboxClient(http, tenant)


# -- scenario files as pytest items ------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "wa_snapshot(path): the exported snapshot the wa_snapshot fixture restores")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("wa_snapshot", "exported snapshot file the wa_snapshot fixture restores before each test")
    parser.addini(
        "wa_scenarios",
        "collect scenario YAML files found under a directory named 'scenarios'",
        type="bool",
        default=True,
    )
    parser.addoption(
        "--wa-scenario-url",
        default=None,
        help="run collected scenario files against this running sandbox instead of in-process",
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml") or "scenarios" not in file_path.parts[:-1]:
        return None
    if not parent.config.getini("wa_scenarios"):
        return None
    text = file_path.read_text(encoding="utf-8", errors="replace")
    if not (re.search(r"^steps:", text, re.MULTILINE) and re.search(r"^rules:", text, re.MULTILINE)):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        yield ScenarioItem.from_parent(self, name=self.path.stem)


class ScenarioRunFailed(Exception):
    def __init__(self, report: str) -> None:
        super().__init__(report)
        self.report = report


class ScenarioItem(pytest.Item):
    """One scenario file, run on a fresh tenant; a failure shows the runner's report, nothing else."""

    def runtest(self) -> None:
        from scenarios.loader import load_file
        from scenarios.runner import RunOptions, run_scenario

        scenario = load_file(self.path)
        result = run_scenario(scenario, RunOptions(url=self.config.getoption("--wa-scenario-url")))
        if result.outcome == "skipped":
            pytest.skip(result.message)
        if not result.passed:
            raise ScenarioRunFailed(result.report or result.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioRunFailed):
            return excinfo.value.report
        from scenarios.values import ScenarioSyntaxError

        if isinstance(excinfo.value, ScenarioSyntaxError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"scenario {self.path.stem}"
