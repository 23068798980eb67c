"""Tenants: create, list, get, delete, reset, state; the health check; the magic-number table; extra tokens."""

from __future__ import annotations

import os
import re
import resource
import sys

from starlette.requests import Request
from starlette.responses import Response

from sandbox.control.clock import MAX_SECONDS, parse_configure_clock
from sandbox.control.common import json_body, limit_of, respond, sandbox_of, tenant_of
from sandbox.control.parse import Fields
from sandbox.control.routing import ControlRoute as Route
from sandbox.control.webhook import TOKEN_LENGTH, URL_LENGTH
from sandbox.domain.commands import CreateTenant, IssueToken
from sandbox.domain.customer import magic_table
from sandbox.services import tenants, world
from sandbox.settings import Profile
from sandbox.version import __version__

# A state document bigger than this helps nobody: the paged routes list the rest.
STATE_PAGE_LIMIT = 1000
TENANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


async def health(request: Request) -> Response:
    """The shared machinery every tenant depends on; 503 when the ticker, any outbox worker or (with a data
    directory) the checkpoints are not running."""
    sandbox = sandbox_of(request)
    ticker = sandbox.tasks.get("ticker")
    ticker_running = ticker is not None and not ticker.done()
    outbox = sandbox.outbox.health()
    checkpoint = sandbox.tasks.get("checkpoint")
    checkpoint_running = sandbox.data_dir is None or (checkpoint is not None and not checkpoint.done())
    healthy = ticker_running and outbox["running"] and checkpoint_running
    incidents = {
        tenant.id: len(tenant.store.incidents) for tenant in sandbox.tenants.values() if tenant.store.incidents
    }
    document = {
        "status": "ok" if healthy else "degraded",
        "version": __version__,
        "tenants": len(sandbox.tenants),
        "ticker": {"running": ticker_running},
        "outbox": outbox,
        "incidents": incidents,
        "process": process_figures(),
    }
    if sandbox.data_dir is not None:
        document["persistence"] = {"data_dir": str(sandbox.data_dir.path), "running": checkpoint_running}
    return respond(document, 200 if healthy else 503)


def process_figures() -> dict[str, float]:
    """This process's pid, CPU seconds so far and peak RSS: a load run reads them before and after the load to charge
    CPU per message to each shard, wherever the shard runs."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak = usage.ru_maxrss / 2**20 if sys.platform == "darwin" else usage.ru_maxrss / 2**10  # bytes there, KiB here
    return {"pid": os.getpid(), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3), "max_rss_mb": round(peak, 1)}


def parse_create_tenant(body: Fields) -> CreateTenant:
    body.only(("name", "profile", "seed", "webhook", "clock"), list_known=False)
    webhook = body.object("webhook", what="an object with url and verify_token")
    clock = body.object("clock", what="an object with mode and rate")
    if webhook is not None:
        webhook.only(("url", "verify_token", "verify"))
    return CreateTenant(
        name=body.text("name", max_length=64, pattern=TENANT_NAME, what="1–64 letters, digits, '.', '_' or '-'"),
        profile=body.choice("profile", Profile),
        seed=_seed(body),
        webhook_url=webhook.text("url", max_length=URL_LENGTH) if webhook else None,
        verify_token=webhook.text("verify_token", max_length=TOKEN_LENGTH, min_length=0) if webhook else None,
        clock=parse_configure_clock(clock) if clock is not None else None,
        # The one rule of every callback URL (PUT .../webhook, --webhook-url): Meta's handshake, unless refused.
        verify_webhook=bool(webhook.flag("verify", default=True)) if webhook else False,
    )


async def create_tenant(request: Request) -> Response:
    command = parse_create_tenant(Fields(await json_body(request)))
    tenant = await tenants.create_verified_tenant(sandbox_of(request), command, request.app.state.transport)
    return respond(tenant.document(), 201)


async def list_tenants(request: Request) -> Response:
    return respond({"data": [tenant.document() for tenant in sandbox_of(request).tenants.values()]})


async def get_tenant(request: Request) -> Response:
    return respond(tenant_of(request).document())


async def delete_tenant(request: Request) -> Response:
    sandbox_of(request).remove(tenant_of(request).id)
    return respond({"success": True})


async def reset_tenant(request: Request) -> Response:
    body = Fields(await json_body(request))
    body.only(("seed", "clock"))
    clock = body.object("clock", what="an object with now, mode and rate")
    command = parse_configure_clock(clock) if clock is not None else None
    return respond(tenants.reset_tenant(sandbox_of(request), tenant_of(request), _seed(body), command).document())


async def reset_sandbox(request: Request) -> Response:
    seed = _seed(Fields(await json_body(request)))
    return respond(tenants.reset_sandbox(sandbox_of(request), seed).document())


def _seed(body: Fields) -> int | None:
    # The tenant document carries the seed, and JSON integers beyond 64 bits do not survive every client.
    return body.integer("seed", low=-(2**63), high=2**63 - 1, what="an integer (64-bit)")


async def tenant_state(request: Request) -> Response:
    """Every list bounded by `limit` (default 100, at most 1000), with `pages[list]` giving its total and, where a
    paged route lists the rest, `next`: its first page after what this document shows."""
    tenant = tenant_of(request)
    limit = min(limit_of(request), STATE_PAGE_LIMIT)
    document = world.snapshot(tenant, limit=limit)
    base = f"/_sandbox/tenants/{tenant.id}"
    customers, pages = document["customers"], document["pages"]
    if customers and pages["customers"]["total"] > len(customers):
        pages["customers"]["next"] = f"{base}/customers?limit={limit}&after={customers[-1]['wa_id']}"
    if pages["messages"]["total"] > pages["messages"]["shown"]:
        # The message journal pages newest first by `limit` and narrows by `since`, `to`, `status`, `direction`.
        pages["messages"]["next"] = f"{base}/messages?limit={pages['messages']['total']}"
    return respond(document)


async def magic(request: Request) -> Response:
    return respond({"data": magic_table()})


def parse_issue_token(body: Fields) -> IssueToken:
    return IssueToken(expires_in=body.number("expires_in", low=0, high=MAX_SECONDS, unit=" of seconds"))


async def issue_token(request: Request) -> Response:
    command = parse_issue_token(Fields(await json_body(request)))
    return respond(tenants.issue_token(tenant_of(request), sandbox_of(request), command), 201)


routes = [
    Route("/_sandbox/health", health, methods=["GET"], answer="Health"),
    Route("/_sandbox/magic", magic, methods=["GET"]),
    Route("/_sandbox/reset", reset_sandbox, methods=["POST"], body=_seed, answer="Tenant"),
    Route("/_sandbox/tenants", create_tenant, methods=["POST"], body=parse_create_tenant, status=201, answer="Tenant"),
    Route("/_sandbox/tenants", list_tenants, methods=["GET"], answer="Tenants"),
    Route("/_sandbox/tenants/{tenant}", get_tenant, methods=["GET"], answer="Tenant"),
    Route("/_sandbox/tenants/{tenant}", delete_tenant, methods=["DELETE"], answer="Success"),
    Route("/_sandbox/tenants/{tenant}/reset", reset_tenant, methods=["POST"], body=_seed, answer="Tenant"),
    Route(
        "/_sandbox/tenants/{tenant}/state",
        tenant_state,
        methods=["GET"],
        query={"limit": {"type": "integer", "minimum": 1, "maximum": STATE_PAGE_LIMIT}},
    ),
    Route("/_sandbox/tenants/{tenant}/tokens", issue_token, methods=["POST"], body=parse_issue_token, status=201),
]
