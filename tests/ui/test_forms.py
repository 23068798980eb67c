"""The form editors are generated from the control plane's own description: every knob and fault field, with its
bounds and choices, and nothing the routes do not read."""

from __future__ import annotations

from typing import Any

from sandbox.control.faults import FAULT_KEYS, MATCH_KEYS
from sandbox.domain.policy import Policy
from sandbox.ui import forms


def _leaves(widgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for widget in widgets:
        found += _leaves(widget["children"]) if "children" in widget else [widget]
    return found


def test_every_knob_has_an_input_of_its_kind_with_its_bounds_and_current_value() -> None:
    policy = Policy()
    policy.messages.read_probability = 0.5
    groups = forms.policy_groups(policy)
    knobs = {knob["path"]: knob for group in groups for knob in group["knobs"]}
    declared = {f"{k['group']}.{k['name']}": k for k in Policy.describe()}
    assert set(knobs) == set(declared)
    assert [group["name"] for group in groups] == list(dict.fromkeys(k["group"] for k in Policy.describe()))
    kinds = {"number": "number", "integer": "number", "boolean": "checkbox", "choice": "select", "span": "pair"}
    kinds |= {"number_list": "numbers", "levels": "group"}
    for path, knob in knobs.items():
        assert knob["kind"] == kinds[declared[path]["type"]], path
    probability = knobs["messages.read_probability"]
    assert probability["value"] == "0.5"
    assert probability["attrs"] == {"step": "any", "min": "0", "max": "1"}
    span = knobs["messages.sent_delay"]
    assert [half["path"] for half in span["children"]] == ["messages.sent_delay.0", "messages.sent_delay.1"]
    assert {half["part"] for half in span["children"]} == {"messages.sent_delay"}  # sent whole
    levels = knobs["limits.throughput_mps"]
    assert {child["part"] for child in levels["children"]} == {"limits.throughput_mps"}
    assert knobs["messages.progression"]["choices"] == [(c, c) for c in declared["messages.progression"]["choices"]]


def test_the_fault_form_has_every_field_the_parser_reads_and_no_other() -> None:
    fields = forms.fault_fields()
    top = {field["path"] for field in fields}
    assert top <= set(FAULT_KEYS) and top >= set(FAULT_KEYS) - {"drop"}  # `drop` is drop_connection's alias
    leaves = {field["path"]: field for field in _leaves(fields)}
    assert {path.removeprefix("match.") for path in leaves if path.startswith("match.")} == set(MATCH_KEYS)
    code = leaves["error.code"]
    assert code["kind"] == "select" and code["numeric"]
    assert ("131056", "131056 (Business Account, Consumer Account) pair rate limit hit") in code["choices"]
    assert leaves["times"]["attrs"] == {"step": "1", "min": "1", "max": "1000000"}
    assert {"latency_ms.min", "latency_ms.max", "latency_ms.mean", "latency_ms.stddev"} <= set(leaves)
    assert all(field["help"] for field in leaves.values())
