"""`GET /_sandbox/`: the control plane's index; `GET /_sandbox/openapi.json`: its description; `GET /_sandbox/docs`:
the description in Swagger UI, whose assets (swagger-ui-dist 5.35.0, Apache-2.0) are served from this package.

The description and its viewer hold no secret (Meta's own description is public), so they need no admin token;
the index, like every other control route, does.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from sandbox.control import openapi
from sandbox.control.common import SandboxError, respond, sandbox_of
from sandbox.control.routing import ControlRoute as Route
from sandbox.version import __version__

ASSETS = Path(__file__).with_name("swagger_ui")
# What the page loads; nothing else under the folder (the licence texts) is served.
ASSET_TYPES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css"}
LINKS = {
    "docs": "/_sandbox/docs",
    "openapi": "/_sandbox/openapi.json",
    "health": "/_sandbox/health",
    "tenants": "/_sandbox/tenants",
    "policy knobs": "/_sandbox/policy/knobs",
    "errors": "/_sandbox/errors",
}
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wa-sandbox control plane</title>
<link rel="stylesheet" href="/_sandbox/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/_sandbox/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "/_sandbox/openapi.json", dom_id: "#swagger-ui", deepLinking: true});</script>
</body></html>
"""


def described(request: Request) -> dict[str, Any]:
    """The description of the routes this app serves, built once per app."""
    state = request.app.state
    if getattr(state, "openapi", None) is None:
        state.openapi = openapi.description(request.app.router.routes)
    document: dict[str, Any] = state.openapi
    return document


async def get_openapi(request: Request) -> Response:
    return respond(described(request))


async def get_docs(request: Request) -> Response:
    return HTMLResponse(PAGE)


async def get_asset(request: Request) -> Response:
    name = request.path_params["asset"]
    if name not in ASSET_TYPES:
        raise SandboxError(404, f"no asset {name!r}")
    return FileResponse(ASSETS / name, media_type=ASSET_TYPES[name])


def _areas(request: Request) -> list[dict[str, Any]]:
    document = described(request)
    counts: dict[str, int] = {}
    for operations in document["paths"].values():
        for described_operation in operations.values():
            for tag in described_operation["tags"]:
                counts[tag] = counts.get(tag, 0) + 1
    return [{"name": tag["name"], "description": tag["description"], "operations": counts.get(tag["name"], 0)}
            for tag in document["tags"]]  # fmt: skip


async def get_index(request: Request) -> Response:
    """JSON for `Accept: application/json`, a small HTML page otherwise."""
    areas = _areas(request)
    served = {route.path for route in request.app.router.routes if hasattr(route, "path")}
    # The dashboard is linked once this server has one.
    links = LINKS | ({"dashboard": "/_sandbox/ui/"} if "/_sandbox/ui/" in served else {})
    tenants = len(sandbox_of(request).tenants)
    if "application/json" in request.headers.get("accept", ""):
        document = {"name": "wa-sandbox control plane", "version": __version__, "tenants": tenants}
        return respond(document | {"links": links, "areas": areas})
    items = "".join(f'<li><a href="{url}">{html.escape(name)}</a></li>' for name, url in links.items())
    rows = "".join(
        f"<li><b>{html.escape(area['name'])}</b> ({area['operations']}): {html.escape(area['description'])}</li>"
        for area in areas
    )
    return HTMLResponse(
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>wa-sandbox control plane</title></head>"
        f"<body><h1>wa-sandbox control plane {__version__}</h1><p>{tenants} tenant(s)</p><ul>{items}</ul>"
        f"<h2>Areas</h2><ul>{rows}</ul></body></html>"
    )


PUBLIC = frozenset({"/_sandbox/openapi.json", "/_sandbox/docs"})


def is_public(path: str) -> bool:
    """Whether `path` is the description or its viewer, which the admin token does not guard."""
    return path in PUBLIC or (
        path.startswith("/_sandbox/docs/") and path.removeprefix("/_sandbox/docs/") in ASSET_TYPES
    )


routes = [
    Route("/_sandbox/", get_index, methods=["GET"], answer="Index", media_types=("application/json", "text/html")),
    Route("/_sandbox/openapi.json", get_openapi, methods=["GET"], public=True),
    Route("/_sandbox/docs", get_docs, methods=["GET"], media_types=("text/html",), public=True),
    Route(
        "/_sandbox/docs/{asset}",
        get_asset,
        methods=["GET"],
        media_types=tuple(ASSET_TYPES.values()),
        public=True,
        parameters={"asset": {"enum": list(ASSET_TYPES)}},
    ),
]
