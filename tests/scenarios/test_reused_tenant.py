"""`scenario run --url ... --tenant T` leaves T as it found it: callback, verify token, clock, policy and faults."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.context import Sandbox
from sandbox.services.tenants import create_tenant, default_tenant
from sandbox.settings import Settings
from sandbox.testing import running_server
from scenarios import RunOptions, load_text, run_scenario
from scenarios.context import moment

CHANGES_EVERYTHING = """\
rules: [META-WH]
steps:
  - webhook: {url: null}
  - policy: {progression: manual}
  - control: {method: DELETE, path: /faults}
  - clock: {mode: frozen}
  - advance: 365d
  - customer_writes: {from: "15551233004", text: "Hi"}
    save: {inbound: "messages[0].id"}
  - expect_webhooks: {wamid: $inbound, messages: [text], state: no_callback}
"""


def _settings(http: httpx.Client) -> dict[str, Any]:
    tenant = http.get("/_sandbox/tenants/default").json()
    faults = http.get("/_sandbox/tenants/default/faults").json()["data"]
    return {
        "webhook": tenant["webhook"],
        "credentials": (tenant["access_token"], tenant["app_secret"]),
        "mode": tenant["clock"]["mode"],
        "rate": tenant["clock"]["rate"],
        "now": moment(tenant["clock"]["now"]),
        "policy": http.get("/_sandbox/tenants/default/policy").json(),
        "faults": [{k: v for k, v in f.items() if k not in ("id", "created_at")} for f in faults],
    }


@pytest.mark.server
@pytest.mark.parametrize("text", [CHANGES_EVERYTHING], ids=["changes-everything"])
def test_a_run_on_an_existing_tenant_leaves_it_as_it_found_it(text: str) -> None:
    settings = Settings(seed=3, webhook_url="http://127.0.0.1:9/hook", verify_token="s3cret")
    sandbox = Sandbox(settings)
    create_tenant(sandbox, default_tenant(settings))
    with running_server(sandbox) as url, httpx.Client(base_url=url) as http:
        http.post("/_sandbox/tenants/default/clock", json={"mode": "frozen", "now": "2030-01-01T00:00:00Z"})
        http.patch("/_sandbox/tenants/default/policy", json={"read_probability": 0.5})
        fault = {"match": {"path": "/x"}, "error": 131026, "times": 3}
        assert http.post("/_sandbox/tenants/default/faults", json=fault).status_code == 201
        before = _settings(http)
        result = run_scenario(load_text(text), RunOptions(url=url, tenant="default"))
        assert result.passed, result.report
        after = _settings(http)
    assert after == before
    assert before["webhook"] == {"url": "http://127.0.0.1:9/hook", "verify_token": "s3cret"}


def test_a_reused_tenant_starts_its_scenario_at_the_scenario_instant() -> None:
    text = (
        "rules: [the scenario clock]\nsteps:\n  - control: {method: GET, path: /clock}\n"
        "    expect: {body: {now: {contains: '2026-01-05T09:00'}, mode: frozen}}\n"
    )
    with running_server() as url:
        result = run_scenario(load_text(text), RunOptions(url=url, tenant="default"))
    assert result.passed, result.report
