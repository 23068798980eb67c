"""`ControlRoute`: a control-plane route with what its OpenAPI description needs (sandbox/control/openapi.py).

The body is named by the parser the handler reads it with; its schema is read off that parser's readers
(`parse.describe`), so the description says what the code accepts. The rest is declared beside the route: the
status of a success and the schema of its answer (a component of openapi.py, or a plain object).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.routing import Route

from sandbox.control.parse import Fields

BodyParser = Callable[[Fields], object]


# The body of a file upload (a snapshot import, a customer's file): the raw bytes, required.
FILE_BODY: dict[str, Any] = {
    "body_schema": lambda: {"type": "string", "format": "binary"},
    "body_required": True,
    "body_media": "application/octet-stream",
}


class ControlRoute(Route):
    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str],
        body: BodyParser | None = None,
        body_schema: Callable[[], dict[str, Any]] | None = None,
        body_required: bool = False,
        status: int = 200,
        answer: str | None = None,
        media_types: Sequence[str] = ("application/json",),
        public: bool = False,
        parameters: dict[str, dict[str, Any]] | None = None,
        body_media: str = "application/json",
        query: dict[str, dict[str, Any]] | None = None,
        query_required: Sequence[str] = (),
    ) -> None:
        """`body` is the parser the handler calls (`body_schema` a schema from another declaration, such as the
        policy's knobs); `answer` names the component the success answers with; `public` routes need no admin
        token; `parameters` gives a path parameter a narrower schema than a non-empty string."""
        super().__init__(path, endpoint, methods=list(methods))
        self.body = body
        self.body_schema = body_schema
        self.body_required = body_required
        self.status = status
        self.answer = answer
        self.media_types = tuple(media_types)
        self.public = public
        self.parameters = parameters or {}
        # What the body is sent as: JSON but for a file upload such as a snapshot import.
        self.body_media = body_media
        # The query parameters the handler reads, each with its schema (optional but those in `query_required`).
        self.query = query or {}
        self.query_required = frozenset(query_required)
