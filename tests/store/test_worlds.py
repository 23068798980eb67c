"""A tenant's world survives pickling whole: state document, clock's pending work, outbox's pending deliveries."""

from __future__ import annotations

import pickle
from collections import OrderedDict, deque
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox, Tenant
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.services import persistence, world
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.store import worlds
from sandbox.testing import RecordingTransport, settle
from sandbox.webhooks.outbox import Attempt
from tests.conftest import CALLBACK, START

TEMPLATE = {
    "name": "order_update",
    "language": "en_US",
    "category": "UTILITY",
    "components": [{"type": "BODY", "text": "Your order has shipped."}],
}


def _rich_world(client: TestClient, sandbox: Sandbox) -> tuple[Tenant, Tenant]:
    """Onboarding under way, a template pending review, messages both ways, deliveries retrying, a fault, policy."""
    live, blank = sandbox.tenants["t1"], sandbox.tenants["onboarding"]
    auth = {"Authorization": f"Bearer {live.credentials.access_token}"}
    phone = next(iter(live.store.phone_numbers)).id
    assert client.patch("/_sandbox/tenants/t1/policy", json={"messages": {"progression": "scheduled"}}).is_success
    fault = {"match": {"path_regex": "^/[0-9]+/media$"}, "error": {"code": 131056}, "times": 3}
    assert client.post("/_sandbox/tenants/t1/faults", json=fault).status_code == 201
    assert client.post(f"/v23.0/{live.waba_id}/message_templates", json=TEMPLATE, headers=auth).status_code == 200
    for index in range(5):
        body = {"messaging_product": "whatsapp", "to": f"1650555{index:04d}", "type": "text", "text": {"body": "hi"}}
        assert client.post(f"/v23.0/{phone}/messages", json=body, headers=auth).status_code == 200
    inbound = {"from": "16505550001", "type": "text", "text": {"body": "hello"}}
    assert client.post("/_sandbox/tenants/t1/inbound", json=inbound).status_code in (200, 201)
    client.post("/_sandbox/tenants/t1/clock/advance", json={"seconds": 2})
    settle(client)
    body = {"messaging_product": "whatsapp", "to": "16505550001", "type": "text", "text": {"body": "hi again"}}
    assert client.post(f"/v23.0/{phone}/messages", json=body, headers=auth).status_code == 200  # its `sent` waits
    blank_auth = {"Authorization": f"Bearer {blank.credentials.access_token}"}
    number = {"cc": "1", "phone_number": "4155551234", "verified_name": "Lucky Shrub"}
    added = client.post(f"/v23.0/{blank.waba_id}/phone_numbers", json=number, headers=blank_auth).json()
    client.post(f"/v23.0/{added['id']}/request_code?code_method=SMS&language=en_US", headers=blank_auth)
    return live, blank


def _pending(tenant: Tenant) -> list[tuple[Any, ...]]:
    return [(when, getattr(call, "func", call).__name__) for when, call in tenant.clock.scheduled()]


def _deliveries(sandbox: Sandbox, tenant: Tenant) -> list[dict[str, Any]]:
    return [delivery.snapshot() for delivery in sandbox.outbox.log(tenant.id)]


@pytest.fixture
def rich() -> tuple[Sandbox, TestClient]:
    sandbox = Sandbox(Settings(seed=7))
    frozen = ConfigureClock(mode="frozen")
    create_tenant(sandbox, CreateTenant(name="t1", clock=frozen, webhook_url=CALLBACK), start=START)
    create_tenant(sandbox, CreateTenant(name="onboarding", profile="blank", clock=frozen), start=START)
    # The receiver fails: deliveries stay in the outbox, retrying on the tenant clock.
    transport = RecordingTransport(answer=lambda _: 500)
    with TestClient(create_app(sandbox, transport=transport)) as client:
        _rich_world(client, sandbox)
        yield sandbox, client


def test_a_rich_world_round_trips_equal(rich: tuple[Sandbox, TestClient]) -> None:
    sandbox, _ = rich
    for tenant in list(sandbox.tenants.values()):
        before = (world.snapshot(tenant), _pending(tenant), _deliveries(sandbox, tenant))
        assert before[1], "the scenario leaves work scheduled"
        if tenant.id == "t1":  # status moves wait in buckets (`clock.at`), other work in handles
            assert {"_sent_move", "wake"} <= {name for _, name in before[1]}, before[1]
        blob = persistence.world_blob(sandbox, tenant)
        restored = persistence.load_world(sandbox, blob, worlds.layout(), resume=True)
        assert restored is not tenant and sandbox.tenants[tenant.id] is restored
        assert (world.snapshot(restored), _pending(restored), _deliveries(sandbox, restored)) == before
    retrying = [d for d in sandbox.outbox.log("t1") if d.state == "retrying"]
    assert retrying, "the failing receiver leaves deliveries retrying"


def test_restored_work_goes_on(rich: tuple[Sandbox, TestClient]) -> None:
    sandbox, client = rich
    tenant = sandbox.tenants["t1"]
    persistence.load_world(sandbox, persistence.world_blob(sandbox, tenant), worlds.layout(), resume=True)
    client.app.state.transport.answer = lambda _: 200  # type: ignore[attr-defined]
    client.post("/_sandbox/tenants/t1/clock/advance", json={"seconds": 3600})
    settle(client)
    states = {d.state for d in sandbox.outbox.log("t1")}
    assert "retrying" not in states and "delivered" in states
    assert sandbox.tenants["t1"].clock.on_error is not None


def test_statuses_kept_as_facts_round_trip() -> None:
    """A tenant without a callback URL keeps its statuses as facts until its log is read; saved and loaded so,
    they read as the same deliveries."""
    sandbox = Sandbox(Settings(seed=7))
    create_tenant(sandbox, CreateTenant(name="t", clock=ConfigureClock(mode="frozen")), start=START)
    tenant = sandbox.tenants["t"]
    auth = {"Authorization": f"Bearer {tenant.credentials.access_token}"}
    phone = next(iter(tenant.store.phone_numbers)).id
    with TestClient(create_app(sandbox, transport=RecordingTransport())) as client:
        client.post("/_sandbox/tenants/t/inbound", json={"from": "16505550001", "text": {"body": "hi"}})
        body = {"messaging_product": "whatsapp", "to": "16505550001", "type": "text", "text": {"body": "yo"}}
        assert client.post(f"/v23.0/{phone}/messages", json=body, headers=auth).status_code == 200
        client.post("/_sandbox/tenants/t/clock/advance", json={"seconds": 30})
    assert any(isinstance(entry, tuple) for entry in sandbox.outbox.tenant("t").log.values())  # facts, not yet read
    blob = persistence.world_blob(sandbox, tenant)
    twin = Sandbox(Settings(seed=7))
    restored = persistence.load_world(twin, blob, worlds.layout(), resume=True)
    assert _deliveries(twin, restored) == _deliveries(sandbox, tenant)
    summaries = [d["summary"] for d in _deliveries(twin, restored)]
    assert summaries[-3:] == ["status sent", "status delivered", "status read"]


def test_a_blob_cannot_name_what_is_not_a_world() -> None:
    evil = pickle.dumps(__import__("os").system)
    with pytest.raises(worlds.FormatError, match="not part of a sandbox world"):
        worlds.loads(evil, {})


def _global(module: str, name: str) -> bytes:
    return b"\x8c" + bytes([len(module)]) + module.encode() + b"\x8c" + bytes([len(name)]) + name.encode() + b"\x93"


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("sandbox.store.worlds", "importlib.import_module"),  # a module a world module imports
        ("sandbox.store.worlds", "operator.attrgetter"),
        ("sandbox.store.worlds", "importlib"),
        ("sandbox.store.worlds", "dumps.__globals__"),  # what a dunder leads to
        ("sandbox.domain.message", "Message.__init__.__globals__"),
        ("sandbox.domain.message", "datetime"),  # a class imported into a world module, not defined there
    ],
)
def test_a_blob_cannot_reach_past_a_world_module(module: str, name: str) -> None:
    evil = b"\x80\x05" + _global(module, name) + b"."
    with pytest.raises(worlds.FormatError, match=r"sandbox world|does not have"):
        worlds.loads(evil, {})


def test_a_dataclass_that_gained_a_field_is_migrated_by_name() -> None:
    from sandbox.domain.fault import Latency

    blob = worlds.dumps(Latency("uniform", 1.0, 2.0), {})
    # Written when Latency had (a, distribution, b): values are matched by name, never by position.
    old = {"sandbox.domain.fault:Latency": ("a", "distribution", "b", "gone")}
    swapped = worlds.dumps(Latency(1.0, "uniform", 2.0), {})  # type: ignore[arg-type]
    assert worlds.loads(blob, {}) == Latency("uniform", 1.0, 2.0)
    migrated = worlds.loads(swapped, {}, old)
    assert type(migrated) is Latency and migrated == Latency("uniform", 1.0, 2.0)


def test_a_positional_blob_carries_its_field_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from sandbox.domain.fault import Latency

    old = ("a", "distribution", "gone")  # Latency as once written: `b` added since, `gone` dropped

    def written_under_old(self: Any) -> tuple[Any, ...]:
        return worlds.setter_for, (self.cls.__module__, self.cls.__qualname__, old)

    monkeypatch.setattr(worlds._Setter, "__reduce__", written_under_old)
    blob = worlds.dumps(Latency(1.0, "uniform", 9.9), {})  # type: ignore[arg-type]  # values in the old order
    monkeypatch.undo()
    migrated = worlds.loads(blob, {})
    assert type(migrated) is Latency and migrated == Latency("uniform", 1.0)
    assert worlds.loads(worlds.dumps(Latency("fixed", 2.0), {}), {}) == Latency("fixed", 2.0)


def test_a_saved_share_keeps_lanes_with_work_and_not_empty_ones(rich: tuple[Sandbox, TestClient]) -> None:
    from sandbox.webhooks.outbox import Lane

    sandbox, _ = rich
    empty = Lane(("t1", "a lane whose deliveries are done"), token="ready")  # a worker has yet to retire it
    sandbox.outbox._lanes[empty.key] = empty
    _, lanes = sandbox.outbox.share_of("t1")
    assert empty not in lanes
    assert lanes and all(lane.queue for lane in lanes), "the retrying deliveries' lanes are saved"


_instants = st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=-7))])).flatmap(
    lambda moment: st.sampled_from([moment, moment.replace(fold=1)])
)
_leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(), st.binary())
_values = st.recursive(
    st.one_of(_leaves, _instants, st.builds(Attempt, _instants, st.none() | st.integers(), st.floats(0, 1e6))),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
        st.builds(lambda pairs: OrderedDict(pairs), st.lists(st.tuples(st.text(max_size=4), inner), max_size=4)),
        st.builds(deque, st.lists(inner, max_size=4)),
    ),
    max_leaves=20,
)


def _shape(value: Any) -> Any:
    """The value with every type spelled out (a datetime's tzinfo and fold too), to compare exactly."""
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), value.fold)
    if isinstance(value, Attempt):
        return ("Attempt", _shape(value.at), value.status_code, value.latency_ms, value.error)
    if isinstance(value, dict):
        return (type(value).__name__, [(key, _shape(item)) for key, item in value.items()])
    if isinstance(value, list | tuple | deque):
        return (type(value).__name__, [_shape(item) for item in value])
    return (type(value).__name__, value)


@given(_values)
def test_any_world_value_round_trips_exactly(value: Any) -> None:
    assert _shape(worlds.loads(worlds.dumps(value, {}), {})) == _shape(value)
