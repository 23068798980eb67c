"""A fault's path criteria are compiled by RE2 where the fault is accepted (issue 15, item 2): a tenant's pattern
matches in time linear in the path, and one RE2 cannot compile is refused with a SandboxError naming the field."""

from __future__ import annotations

import fnmatch

import pytest
import re2
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.services.faults import PATTERN_LENGTH, compile_glob, compile_regex
from tests.control.test_faults import Api, graph_error, sandbox_error

CATASTROPHIC = "^((.*)*)*x"  # the issue's example: exponential under `re` on any path without an `x`


@pytest.fixture
def api(client: TestClient, tenant: Tenant) -> Api:
    return Api(client, tenant)


def test_the_issues_pattern_is_compiled_by_re2_and_a_long_path_is_searched_through() -> None:
    pattern = compile_regex(CATASTROPHIC)
    assert isinstance(pattern.matcher, re2._Regexp)
    assert not pattern.matches("/" + "a" * 10_000)
    assert pattern.matches("/" + "a" * 10_000 + "x")


def test_a_fault_with_the_issues_pattern_leaves_graph_calls_answering(api: Api, tenant: Tenant) -> None:
    api.fault(match={"path_regex": CATASTROPHIC}, error={"code": 131000})
    assert api.get(api.phone).status_code == 200
    assert api.get("a" * 10_000).status_code == 400  # an unknown node: 100, after the pattern was searched
    api.fault(match={"path_regex": "phone_numbers$"}, error={"code": 131000})
    graph_error(api.get(f"{tenant.waba_id}/phone_numbers"), 131000, 500)
    assert api.control("GET", "/faults").json()["data"][0]["match"] == {"path_regex": CATASTROPHIC}


@pytest.mark.parametrize(
    ("match", "complaint"),
    [
        ({"path_regex": "("}, "match.path_regex is not a valid regular expression"),
        ({"path_regex": r"(a)\1"}, "match.path_regex"),  # backreferences cannot be matched in linear time
        ({"path_regex": "/(?=messages)"}, "match.path_regex"),  # nor lookaround
        ({"path_regex": "a{1001}"}, "match.path_regex"),  # RE2 bounds repeats
        ({"path_regex": "a" * (PATTERN_LENGTH + 1)}, "match.path_regex"),
        ({"path": "/[z-a]"}, "match.path is not a valid glob"),
        ({"path": "*" * (PATTERN_LENGTH + 1)}, "match.path"),
    ],
)
def test_a_pattern_re2_refuses_is_a_sandbox_error_naming_the_field(
    api: Api, match: dict[str, str], complaint: str
) -> None:
    assert complaint in sandbox_error(api.control("POST", "/faults", {"match": match, "error": 131000}), 400)
    assert api.control("GET", "/faults").json() == {"data": []}


def test_a_glob_keeps_its_text_and_matches_across_slashes(api: Api) -> None:
    fault = api.fault(match={"path": "/v23.0/*/messages"}, error={"code": 131000})
    assert fault["match"] == {"path": "/*/messages"}
    graph_error(api.send({"messaging_product": "whatsapp", "to": "16505551234", "type": "text"}), 131000, 500)
    assert api.get(api.phone).status_code == 200


GLOB_CHARS = st.sampled_from(list("ab/:*?[]!^-\\.$ (){}|+é"))
PATH_CHARS = st.sampled_from(list("ab/:]![^-\\.$ é"))


@given(st.text(GLOB_CHARS, max_size=10), st.text(PATH_CHARS, max_size=10))
def test_a_glob_matches_what_fnmatch_matches(glob: str, path: str) -> None:
    try:
        pattern = compile_glob(glob)
    except ValueError:
        return  # a reversed range, which RE2 refuses and fnmatch silently matches nothing with
    assert pattern.matches(path) == fnmatch.fnmatchcase(path, glob)
