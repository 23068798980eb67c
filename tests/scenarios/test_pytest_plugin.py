"""The pytest plugin: fixtures, and scenario files collected as tests."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_fixtures_clock_and_webhooks(wa_scenario, wa_clock, wa_webhooks, wa_tenant) -> None:
    before = wa_clock.now()
    wa_scenario.customer_writes(from_="15551238001", text="Hi")
    sent = wa_scenario.send(to="15551238001", text="Hello")
    wamid = sent["messages"][0]["id"]
    assert wa_clock.advance("31d")["now"]
    assert (wa_clock.now() - before).days == 31
    assert wa_webhooks.statuses(wamid) == ["sent", "delivered", "read"]
    assert wa_webhooks.inbound("15551238001") == ["text"]
    wa_webhooks.expect(wamid=wamid, statuses=["sent", "delivered", "read"])
    assert wa_tenant.store.messages.get(wamid) is not None


@pytest.mark.server
def test_server_scenario_delivers_to_the_sink(wa_server_scenario, wa_sink) -> None:
    wa_server_scenario.customer_writes(from_="15551238002", text="Hi")
    sent = wa_server_scenario.send(to="15551238002", text="Hello")
    wa_server_scenario.advance("1m")
    wamid = sent["messages"][0]["id"]
    wa_server_scenario.expect_webhooks(wamid=wamid, statuses=["sent", "delivered", "read"], delivered=True)
    assert wa_sink.wait_for(lambda sink: sink.statuses(wamid) == ["sent", "delivered", "read"], timeout=5)


def test_scenario_files_are_collected_and_reported(pytester: pytest.Pytester) -> None:
    folder = pytester.mkdir("scenarios")
    (folder / "good.yaml").write_text(
        "rules: [SEED-TEMPLATE-1]\nsteps:\n  - send: {to: '15551238003', template: hello_world}\n"
    )
    (folder / "bad.yaml").write_text(
        "rules: [SEED-MSG-1]\nsteps:\n  - send: {to: '15551238004', text: hi}\n    save: {msg: 'messages[0].id'}\n"
        "  - advance: 1m\n  - expect_webhooks: {wamid: $msg, statuses: [read]}\n"
    )
    (folder / "config.yaml").write_text("not: a scenario\n")
    result = pytester.runpytest("-p", "no:cacheprovider", str(folder))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*statuses: expected exactly [[]read[]]*", "*actual [[]failed[]]*"])
