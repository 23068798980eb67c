"""Where a scenario runs: one fresh tenant reached over HTTP, in-process (an httpx client over the ASGI app) or at a
URL.

Both ways go through the same Graph and control-plane calls, so a scenario behaves the same in either; only the
webhook receiver differs (a recording fake in-process, whatever the tenant's callback URL says otherwise).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from scenarios.model import Scenario, Skip, StepFailed
from scenarios.values import render

IN_PROCESS_CALLBACK = "http://receiver.test/webhook"
# Where a scenario's tenant clock starts unless its `tenant: {clock: {now}}` says otherwise: one instant for every
# run, so the same scenario and seed print the same report (the pytest fixtures start there too).
SCENARIO_START = "2026-01-05T09:00:00Z"
SETTLED_STATES = frozenset({"delivered", "dropped", "no_callback"})
# Features a scenario may declare in `requires:`; each is probed once per tenant. `None`: decided by the runner.
FEATURE_PROBES: dict[str, tuple[str, str] | None] = {
    "faults": ("GET", "/faults"),
    "throughput": None,
    "reviews": None,
    "receiver": None,
}


@dataclass(slots=True)
class Receiver:
    """The in-process webhook receiver: answers every POST with `status` (scenario step `receiver`)."""

    status: int = 200
    posted: list[Any] = field(default_factory=list)
    sink: Any = None

    def answer(self, posted: Any) -> int:
        return self.status

    def set(self, status: int) -> None:
        self.status = status
        if self.sink is not None:
            # sandbox.sink.WebhookSink answers 200 ("ok") or 500 ("error").
            self.sink.mode = "ok" if 200 <= status < 300 else "error"


@dataclass
class Context:
    """One scenario's run: the HTTP client, the tenant document, the variables, the last response."""

    http: httpx.Client
    tenant: dict[str, Any]
    mode: str
    receiver: Receiver | None = None
    wait: float = 0.0
    variables: dict[str, Any] = field(default_factory=dict)
    last: httpx.Response | None = None
    calls: list[str] = field(default_factory=list)
    builtins: frozenset[str] = frozenset()

    # -- calls -------------------------------------------------------------------------------------------------

    def graph(
        self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None, token: str | None = None
    ) -> httpx.Response:
        path = path.lstrip("/")
        if not path.startswith("v") or "/" not in path or not path.split("/", 1)[0][1:].replace(".", "").isdigit():
            path = f"{self.tenant['graph_version']}/{path}"
        headers = {"Authorization": f"Bearer {token or self.tenant['access_token']}"}
        return self._call(method, f"/{path}", body, params, headers)

    def control(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> httpx.Response:
        """`path` is relative to the tenant (`/inbound`) unless it starts with `/_sandbox/`."""
        if not path.startswith("/_sandbox/"):
            path = f"/_sandbox/tenants/{self.tenant['id']}/{path.lstrip('/')}".rstrip("/")
        return self._call(method, path, body, params, {})

    def _call(
        self, method: str, path: str, body: Any, params: dict[str, Any] | None, headers: dict[str, str]
    ) -> httpx.Response:
        response = self.http.request(method.upper(), path, json=body, params=params, headers=headers)
        self.calls.append(f"{method.upper()} {path} → {response.status_code}")
        self.last = response
        return response

    def fetch(self, path: str, **params: Any) -> Any:
        """A control-plane read that must succeed (the journal, the state); does not touch `last`."""
        url = f"/_sandbox/tenants/{self.tenant['id']}/{path.lstrip('/')}".rstrip("/")
        response = self.http.get(url, params=params or None)
        if response.status_code != 200:
            raise StepFailed(f"the sandbox refused GET {url}: {response.status_code} {response.text[:300]}")
        return response.json()

    # -- waiting on things outside the tenant clock ------------------------------------------------------------

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until every due webhook attempt has been made, so the next clock move starts from a known outbox."""
        deadline = time.monotonic() + timeout
        while True:
            now = moment(self.fetch("/clock")["now"])
            busy = [
                d
                for d in self.fetch("/webhooks", limit=100000)["data"]
                if d["state"] not in SETTLED_STATES
                and not (d["state"] == "retrying" and moment(d["next_attempt_at"]) > now)
            ]
            if not busy or time.monotonic() > deadline:
                return
            _pause()

    def poll(self, check: Callable[[], Any], within: float | None) -> Any:
        """Run `check` until it stops raising `StepFailed` or `within` seconds (default: the run's wait) pass."""
        deadline = time.monotonic() + (self.wait if within is None else within)
        while True:
            try:
                return check()
            except StepFailed:
                if time.monotonic() >= deadline:
                    raise
            _pause()

    # -- features ----------------------------------------------------------------------------------------------

    def check_features(self, scenario: Scenario, features: set[str]) -> None:
        for feature in sorted(features):
            if feature not in FEATURE_PROBES:
                raise Skip(f"unknown feature {feature!r} in requires: (known: {', '.join(sorted(FEATURE_PROBES))})")
            if not self.has_feature(feature):
                raise Skip(f"requires {feature}: {self._missing_reason(feature)}")

    def has_feature(self, feature: str) -> bool:
        if feature == "receiver":
            return self.receiver is not None
        if feature == "throughput":
            policy = self.fetch("/policy")
            # Knobs sit in groups ({"limits": {"throughput_mps": ...}}); older sandboxes listed them flat.
            names = [*policy, *(name for knobs in policy.values() if isinstance(knobs, dict) for name in knobs)]
            return any("throughput" in name or "per_second" in name for name in names)
        if feature == "reviews":
            # The endpoint came before the lifecycles: it lists the kinds this sandbox can decide.
            response = self.http.request("GET", f"/_sandbox/tenants/{self.tenant['id']}/reviews")
            return response.status_code == 200 and bool(response.json().get("kinds"))
        probe = FEATURE_PROBES[feature]
        assert probe is not None
        response = self.http.request(probe[0], f"/_sandbox/tenants/{self.tenant['id']}{probe[1]}")
        return not (response.status_code == 404 and "no control-plane endpoint" in response.text)

    def _missing_reason(self, feature: str) -> str:
        if feature == "receiver":
            return "the runner controls the webhook receiver only in-process, or with --sink"
        if feature == "throughput":
            return "this sandbox has no throughput limit yet (no throughput knob in the policy)"
        if feature == "reviews":
            return "this sandbox decides no review kind yet (GET /_sandbox/tenants/{tenant}/reviews lists none)"
        probe = FEATURE_PROBES[feature]
        assert probe is not None
        return f"this sandbox has no {probe[0]} /_sandbox/tenants/{{tenant}}{probe[1]} yet"

    # -- what failure output shows ---------------------------------------------------------------------------

    def journal_lines(self, focus: str | None = None, limit: int = 12) -> list[str]:
        """The tenant's webhook deliveries and Graph requests, newest last, narrowed to `focus` (a wamid) if given."""
        lines: list[str] = []
        with contextlib.suppress(Exception):
            deliveries = list(reversed(self.fetch("/webhooks", limit=500)["data"]))
            rows = [_delivery_line(d) for d in deliveries if focus is None or focus in d.get("body", "")]
            lines.append(f"webhooks{' of ' + focus if focus else ''} (newest last, {len(rows)} in all):")
            lines += ["  " + row for row in rows[-limit:]] or ["  (none)"]
        with contextlib.suppress(Exception):
            requests = list(reversed(self.fetch("/requests", limit=limit)["data"]))
            lines.append("Graph requests (newest last):")
            lines += [
                f"  {r['time']}  {r['method']} {r['path']} → {r['status']}"
                + (f" error {r['error_code']}" if r.get("error_code") else "")
                for r in requests
            ] or ["  (none)"]
        return lines


def _delivery_line(delivery: dict[str, Any]) -> str:
    import orjson

    detail = ""
    with contextlib.suppress(Exception):
        value = orjson.loads(delivery["body"])["entry"][0]["changes"][0]["value"]
        for status in value.get("statuses", []):
            errors = status.get("errors")
            detail = f"{status['id'][:28]}… {status['status']}"
            if errors:
                detail += f" error {errors[0].get('code')} {errors[0].get('title', '')}"
        for message in value.get("messages", []):
            detail = f"from {message['from']} {message['type']} {message['id'][:28]}…"
    return (
        f"{delivery['created_at']}  {delivery['field']:<8} {delivery['summary']:<18} {detail:<50} "
        f"{delivery['state']}{attempts_note(delivery.get('attempts', []))}"
    )


def attempts_note(attempts: list[dict[str, Any]]) -> str:
    """` (attempts: 3, last answer 200)`: how many times the platform tried, and what the receiver said last."""
    if not attempts:
        return ""
    last = attempts[-1]
    answer = last.get("status_code") or last.get("error") or "none"
    return f" (attempts: {len(attempts)}, last answer {answer})"


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _pause() -> None:
    # Waiting on another thread or process (webhook workers, a system under test); never on sandbox time.
    time.sleep(0.01)  # noqa: TID251


@contextlib.contextmanager
def in_process(seed: int = 7) -> Iterator[tuple[httpx.Client, Receiver]]:
    """A fresh sandbox served in this process, its webhooks answered by a `Receiver`."""
    from sandbox.app import create_app
    from sandbox.context import Sandbox
    from sandbox.settings import Settings
    from sandbox.testing import InProcessClient, RecordingTransport

    receiver = Receiver()
    transport = RecordingTransport(answer=receiver.answer)
    receiver.posted = transport.posted  # type: ignore[assignment]
    with InProcessClient(create_app(Sandbox(Settings(seed=seed)), transport=transport)) as client:
        yield client, receiver


@contextlib.contextmanager
def loopback_sink() -> Iterator[tuple[str, Receiver]]:
    """A real webhook receiver on a loopback port (`sandbox.sink.WebhookSink`) for runs against a URL."""
    from sandbox.sink import WebhookSink
    from sandbox.testing import running_server

    sink = WebhookSink()
    with running_server(app=sink) as url:
        yield f"{url}/webhook", Receiver(sink=sink)


def sink_available() -> bool:
    try:
        import sandbox.sink  # noqa: F401
    except ImportError:
        return False
    return True


def create_tenant(http: httpx.Client, scenario: Scenario, *, callback: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"clock": {"mode": "frozen", "now": SCENARIO_START, **(scenario.tenant.get("clock") or {})}}
    for key in ("profile", "seed", "name"):
        if key in scenario.tenant:
            body[key] = scenario.tenant[key]
    webhook = scenario.tenant.get("webhook") or ({"url": callback} if callback else None)
    if webhook:
        body["webhook"] = webhook
    response = http.post("/_sandbox/tenants", json=body)
    if response.status_code != 201:
        raise StepFailed(
            f"could not create the scenario's tenant: {response.status_code} {response.text[:300]}",
            expected={"status": 201},
            actual={"status": response.status_code, "body": render(body)},
        )
    return dict(response.json())


def reuse_tenant(http: httpx.Client, scenario: Scenario, tenant_id: str) -> dict[str, Any]:
    """Reset an existing tenant (credentials and callback kept) for a system under test configured with it: a
    fresh world whose frozen clock starts where scenario tenants start."""
    clock = {"mode": "frozen", "now": SCENARIO_START, **(scenario.tenant.get("clock") or {})}
    response = http.post(f"/_sandbox/tenants/{tenant_id}/reset", json={"clock": clock})
    if response.status_code != 200:
        raise StepFailed(f"could not reset tenant {tenant_id!r}: {response.status_code} {response.text[:300]}")
    document = dict(response.json())
    wanted = scenario.tenant.get("profile")
    if wanted and wanted != document["profile"]:
        raise Skip(f"needs a {wanted} tenant; tenant {tenant_id!r} is {document['profile']}")
    return document


# A fault's document as listed, less what the sandbox counts, is the body that creates it again.
_FAULT_COUNTERS = ("id", "hits", "created_at", "remaining", "times")


@dataclass(frozen=True, slots=True)
class FoundSettings:
    """What a reused tenant had before a scenario ran on it, put back afterwards (`restore`)."""

    tenant_id: str
    clock: dict[str, Any]
    webhook: dict[str, Any]
    policy: dict[str, Any]
    faults: list[dict[str, Any]]

    @classmethod
    def read(cls, http: httpx.Client, tenant_id: str) -> FoundSettings:
        base = f"/_sandbox/tenants/{tenant_id}"
        document = _ok(http.get(base), f"read tenant {tenant_id!r}")
        return cls(
            tenant_id,
            {key: document["clock"][key] for key in ("now", "mode", "rate")},
            document["webhook"],
            _ok(http.get(f"{base}/policy"), "read its policy"),
            _ok(http.get(f"{base}/faults"), "read its faults")["data"],
        )

    def restore(self, http: httpx.Client) -> None:
        """A fresh world at the clock's old instant, mode and rate, with the old callback, policy and faults."""
        base = f"/_sandbox/tenants/{self.tenant_id}"
        _ok(http.post(f"{base}/reset", json={"clock": self.clock}), "reset it")
        _ok(http.put(f"{base}/webhook", json={**self.webhook, "verify": False}), "restore its callback")
        _ok(http.patch(f"{base}/policy", json=self.policy), "restore its policy")
        for fault in self.faults:
            body = {key: value for key, value in fault.items() if key not in _FAULT_COUNTERS}
            # What was left of a counted fault is what it gets again.
            body["times"] = fault.get("remaining")
            _ok(http.post(f"{base}/faults", json=body), "restore its faults")


def _ok(response: httpx.Response, doing: str) -> Any:
    if response.status_code not in (200, 201):
        raise StepFailed(f"could not {doing}: {response.status_code} {response.text[:300]}")
    return response.json()
