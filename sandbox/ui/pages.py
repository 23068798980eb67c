"""The dashboard's pages and the fragments they poll.

Each handler reads what the matching control-plane route answers with (tenant documents, the journals, the delivery
log, pending reviews) and renders it; the pages' buttons and forms call the control-plane routes themselves
(static/dashboard.js), so every action is the call a script would make.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from sandbox.control.common import SandboxError, sandbox_of, tenant_of
from sandbox.control.parse import wa_id_of
from sandbox.ui import views
from sandbox.version import __version__

HERE = Path(__file__).parent
STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True))
templates.env.filters["pretty"] = views.pretty
templates.env.filters["rfc"] = views.rfc
FILTER_LENGTH = 128


def _render(request: Request, name: str, **context: Any) -> Response:
    sandbox = sandbox_of(request)
    context |= {"version": __version__, "tenants": list(sandbox.tenants.values())}
    return templates.TemplateResponse(request, name, context)


def _filters(request: Request, *names: str) -> dict[str, str]:
    """The page's filters from its query: each a short string (the log is searched, never parsed, with them)."""
    found = {}
    for name in names:
        value = request.query_params.get(name, "")
        if len(value) > FILTER_LENGTH:
            raise SandboxError(400, f"the {name} filter is at most {FILTER_LENGTH} characters")
        found[name] = value
    return found


async def home(request: Request) -> Response:
    return _render(request, "home.html", documents=[t.document() for t in sandbox_of(request).tenants.values()])


async def tenant_page(request: Request) -> Response:
    tenant = tenant_of(request)
    document = tenant.document()
    base = str(request.base_url).rstrip("/")
    return _render(
        request,
        "tenant.html",
        tenant=tenant,
        doc=document,
        credentials={key: document.get(key) for key in views.CREDENTIALS},
        curl=views.curl(base, document),
        world=views.overview(tenant),
        section="overview",
    )


async def clock_fragment(request: Request) -> Response:
    tenant = tenant_of(request)
    return _render(request, "_clock.html", tenant=tenant, clock=tenant.clock.snapshot())


async def chats_page(request: Request) -> Response:
    tenant = tenant_of(request)
    wa_id = request.path_params.get("wa_id")
    if wa_id is not None:
        wa_id = wa_id_of(wa_id, "wa_id")
    return _render(
        request, "chats.html", tenant=tenant, chats=views.chats(tenant), wa_id=wa_id, section="chats",
        thread=views.thread(tenant, wa_id) if wa_id else [],
    )  # fmt: skip


async def thread_fragment(request: Request) -> Response:
    tenant = tenant_of(request)
    wa_id = wa_id_of(request.path_params["wa_id"], "wa_id")
    return _render(request, "_thread.html", tenant=tenant, wa_id=wa_id, thread=views.thread(tenant, wa_id))


async def reviews_page(request: Request) -> Response:
    tenant = tenant_of(request)
    return _render(
        request, "reviews.html", tenant=tenant, section="reviews",
        reviews=views.reviews(tenant), templates_=views.templates(tenant), world=views.overview(tenant),
    )  # fmt: skip


async def webhooks_page(request: Request) -> Response:
    tenant = tenant_of(request)
    filters = _filters(request, "field", "state", "wamid")
    deliveries = views.deliveries(sandbox_of(request), tenant, filters)
    return _render(request, "webhooks.html", tenant=tenant, section="webhooks", filters=filters, deliveries=deliveries)


async def requests_page(request: Request) -> Response:
    tenant = tenant_of(request)
    filters = _filters(request, "status", "method")
    entries = views.requests(tenant, filters)
    return _render(request, "requests.html", tenant=tenant, section="requests", filters=filters, entries=entries)


async def settings_page(request: Request) -> Response:
    tenant = tenant_of(request)
    faults = [fault.snapshot() for fault in tenant.faults.faults.values()]
    return _render(
        request, "settings.html", tenant=tenant, section="settings", faults=faults, policy=tenant.policy.snapshot()
    )


async def static(request: Request) -> Response:
    name = request.path_params["asset"]
    if name not in STATIC:
        raise SandboxError(404, f"no dashboard asset {name!r}")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name])


def ui_routes() -> list[BaseRoute]:
    """Plain routes, not ControlRoutes: pages for people, so outside the control plane's OpenAPI description."""
    base = "/_sandbox/ui"
    tenant = f"{base}/tenants/{{tenant}}"
    pages = [
        (f"{base}/", home),
        (f"{base}/static/{{asset}}", static),
        (tenant, tenant_page),
        (f"{tenant}/clock", clock_fragment),
        (f"{tenant}/chats", chats_page),
        (f"{tenant}/chats/{{wa_id}}", chats_page),
        (f"{tenant}/chats/{{wa_id}}/thread", thread_fragment),
        (f"{tenant}/reviews", reviews_page),
        (f"{tenant}/webhooks", webhooks_page),
        (f"{tenant}/requests", requests_page),
        (f"{tenant}/settings", settings_page),
    ]
    return [Route(path, endpoint, methods=["GET"]) for path, endpoint in pages]
