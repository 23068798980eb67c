"""The dashboard's pages and the fragments they poll.

Each handler reads what the matching control-plane route answers with (tenant documents, the journals, the delivery
log, pending reviews) and renders it; the pages' buttons and forms call the control-plane routes themselves
(static/dashboard.js), so every action is the call a script would make.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from sandbox.control import journal
from sandbox.control.common import SandboxError, sandbox_of, tenant_of
from sandbox.control.parse import query_integer, wa_id_of
from sandbox.domain.errors import Invalid
from sandbox.ui import forms, views
from sandbox.version import __version__

HERE = Path(__file__).parent
STATIC = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True))
templates.env.filters["pretty"] = views.pretty
templates.env.filters["rfc"] = views.rfc
templates.env.filters["brief"] = views.brief
FILTER_LENGTH = 128


def _render(request: Request, name: str, **context: Any) -> Response:
    sandbox = sandbox_of(request)
    context |= {"version": __version__, "tenants": list(sandbox.tenants.values())}
    return templates.TemplateResponse(request, name, context)


def _filters(request: Request, *names: str) -> dict[str, str]:
    """The page's filters from its query: each a short string, the empty ones (a form's unfilled inputs) left out,
    as a script would leave them out of its query."""
    found = {}
    for name in names:
        value = request.query_params.get(name, "").strip()
        if len(value) > FILTER_LENGTH:
            raise SandboxError(400, f"the {name} filter is at most {FILTER_LENGTH} characters")
        if value:
            found[name] = value
    return found


def _journal_page(
    request: Request,
    name: str,
    names: tuple[str, ...],
    read: Callable[[dict[str, str], int], list[Any]],
    **context: Any,
) -> Response:
    """A journal page: its filters read by the route's own functions; one they refuse is shown beside the form."""
    tenant = tenant_of(request)
    given: dict[str, str] = {}
    problem, entries = None, []
    try:
        given = _filters(request, *names, "limit")
        limit = query_integer(given, "limit", low=1, high=views.PAGE, default=views.PAGE, what="a positive integer")
        entries = read(given, limit)
    except (Invalid, SandboxError) as error:
        problem = str(error)
    return _render(
        request, name, tenant=tenant, filters=given, entries=entries, problem=problem, limit=views.PAGE, **context
    )


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


async def world_fragment(request: Request) -> Response:
    tenant = tenant_of(request)
    return _render(request, "_world.html", tenant=tenant, world=views.overview(tenant))


async def chats_page(request: Request) -> Response:
    tenant = tenant_of(request)
    wa_id = request.path_params.get("wa_id")
    if wa_id is not None:
        wa_id = wa_id_of(wa_id, "wa_id")
    return _render(
        request, "chats.html", tenant=tenant, chats=views.chats(tenant), wa_id=wa_id, section="chats",
        thread=views.thread(tenant, wa_id) if wa_id else [], media_kinds=views.MEDIA_KINDS,
        media_accept=views.MEDIA_ACCEPT,
    )  # fmt: skip


async def thread_fragment(request: Request) -> Response:
    tenant = tenant_of(request)
    wa_id = wa_id_of(request.path_params["wa_id"], "wa_id")
    return _render(request, "_thread.html", tenant=tenant, wa_id=wa_id, thread=views.thread(tenant, wa_id))


async def reviews_page(request: Request) -> Response:
    tenant = tenant_of(request)
    return _render(
        request, "reviews.html", tenant=tenant, section="reviews",
        reviews=views.reviews(tenant), templates_=views.overview(tenant, views.PAGE)["templates"],
    )  # fmt: skip


async def webhooks_page(request: Request) -> Response:
    sandbox, tenant = sandbox_of(request), tenant_of(request)
    return _journal_page(
        request, "webhooks.html", views.DELIVERY_FILTERS,
        lambda given, limit: views.deliveries(sandbox, tenant, journal.delivery_filters(given), limit),
        section="webhooks", states=views.DELIVERY_STATES,
    )  # fmt: skip


async def requests_page(request: Request) -> Response:
    tenant = tenant_of(request)
    return _journal_page(
        request, "requests.html", views.REQUEST_FILTERS,
        lambda given, limit: views.requests(tenant, journal.request_filters(given), limit),
        section="requests",
    )  # fmt: skip


async def settings_page(request: Request) -> Response:
    tenant = tenant_of(request)
    faults = [fault.snapshot() for fault in tenant.faults.faults.values()]
    return _render(
        request, "settings.html", tenant=tenant, section="settings", faults=faults, policy=tenant.policy.snapshot(),
        policy_groups=forms.policy_groups(tenant.policy), fault_fields=forms.fault_fields(),
    )  # fmt: skip


async def media_file(request: Request) -> Response:
    """A media file the tenant holds, as the business's download URL serves it, for the thread to show."""
    found = views.stored_media(tenant_of(request), request.path_params["media_id"])
    if found is None or found.data is None:
        raise SandboxError(404, "no such media, or it has expired")
    # A file someone else chose, served from the dashboard's origin: never sniffed, never run.
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}
    return Response(found.data, media_type=found.mime_type.split(";")[0], headers=headers)


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
        (f"{tenant}/world", world_fragment),
        (f"{tenant}/chats", chats_page),
        (f"{tenant}/chats/{{wa_id}}", chats_page),
        (f"{tenant}/chats/{{wa_id}}/thread", thread_fragment),
        (f"{tenant}/media/{{media_id}}", media_file),
        (f"{tenant}/reviews", reviews_page),
        (f"{tenant}/webhooks", webhooks_page),
        (f"{tenant}/requests", requests_page),
        (f"{tenant}/settings", settings_page),
    ]
    return [Route(path, endpoint, methods=["GET"]) for path, endpoint in pages]
