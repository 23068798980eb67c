"""The pytest plugin's `wa_snapshot` fixture: a prepared world restored before each of 100 tests."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox
from sandbox.domain.commands import ConfigureClock, CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from tests.conftest import START

pytest_plugins = ["pytester"]

SUITE = """
import pytest

TEXT = {"messaging_product": "whatsapp", "to": "16505551234", "type": "text", "text": {"body": "hi"}}


@pytest.mark.parametrize("run", range(100))
def test_each_starts_from_the_prepared_world(wa_snapshot, run):
    assert len(wa_snapshot.messages()) == 1
    phone = wa_snapshot.document["phone_number_id"]
    assert wa_snapshot.send(TEXT, phone).status_code == 200
    assert len(wa_snapshot.messages()) == 2
"""


def test_the_fixture_restores_the_snapshot_before_each_test(pytester: pytest.Pytester) -> None:
    sandbox = Sandbox(Settings(seed=7))
    create_tenant(sandbox, CreateTenant(name="default", clock=ConfigureClock(mode="frozen")), start=START)
    with TestClient(create_app(sandbox)) as client:
        tenant = client.get("/_sandbox/tenants/default").json()
        body = {"messaging_product": "whatsapp", "to": "16505550000", "type": "text", "text": {"body": "prepared"}}
        auth = {"Authorization": f"Bearer {tenant['access_token']}"}
        assert client.post(f"/v23.0/{tenant['phone_number_id']}/messages", json=body, headers=auth).is_success
        client.post("/_sandbox/snapshots", json={"name": "prepared", "tenant": "default"})
        (pytester.path / "prepared.wa-snapshot").write_bytes(client.get("/_sandbox/snapshots/prepared/export").content)
    pytester.makeini("[pytest]\nwa_snapshot = prepared.wa-snapshot\n")
    pytester.makepyfile(test_prepared=SUITE)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider", "--durations=1")
    result.assert_outcomes(passed=100)
