"""The send path's shortcuts give exactly what the Starlette objects they replace would give."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from starlette.requests import Request

from sandbox.api.error_handlers import GraphResponse, graph_headers, json_response
from sandbox.api.graph import header, request_path


def _request(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "query_string": b"",
        "headers": headers if headers is not None else [(b"host", b"127.0.0.1:8000")],
        "server": ("127.0.0.1", 8000),
    }
    return Request(scope)


@given(
    data=st.one_of(
        st.none(),
        st.dictionaries(st.text(st.characters(exclude_categories=["Cs"])), st.integers(-(2**63), 2**63 - 1)),
    ),
    status=st.sampled_from([200, 201, 400, 401, 403, 404, 429, 500, 503]),
    version=st.sampled_from(["v23.0", "v19.0", "v9.1"]),
    trace=st.text(alphabet="ABCDEFabcdef0123456789-_", min_size=1, max_size=23),
)
def test_graph_response_is_json_response_with_graph_headers(data: Any, status: int, version: str, trace: str) -> None:
    fast = GraphResponse(data, status, version, trace)
    plain = json_response(data, status=status, headers=graph_headers(version, trace))
    assert (fast.status_code, fast.body, fast.raw_headers) == (plain.status_code, plain.body, plain.raw_headers)
    assert fast.headers["x-fb-trace-id"] == trace


@given(path=st.text(min_size=1).map(lambda text: "/" + text) | st.text())
def test_request_path_is_the_url_path(path: str) -> None:
    assert request_path(_request(path)) == _request(path).url.path


@given(
    headers=st.lists(
        st.tuples(st.sampled_from([b"authorization", b"content-type", b"host", b"x-other"]), st.binary(max_size=20))
    ),
    name=st.sampled_from([b"authorization", b"content-type", b"x-missing"]),
)
def test_header_is_the_first_header_starlette_finds(headers: list[tuple[bytes, bytes]], name: bytes) -> None:
    assert header(_request("/v23.0/1", headers), name) == _request("/v23.0/1", headers).headers.get(name.decode())
