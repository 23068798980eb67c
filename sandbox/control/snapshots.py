"""Named snapshots: save a tenant's world (or the whole server's), list, restore, delete, export, import."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sandbox.control.common import json_body, respond, sandbox_of
from sandbox.control.parse import Fields
from sandbox.control.routing import FILE_BODY
from sandbox.control.routing import ControlRoute as Route
from sandbox.control.tenants import TENANT_NAME
from sandbox.errors import SandboxError
from sandbox.services import snapshots

NAME_WHAT = "1–64 letters, digits, '.', '_' or '-'"


def _name(request: Request) -> str:
    name = str(request.path_params["name"])
    if not TENANT_NAME.match(name):
        raise SandboxError(400, f"a snapshot name is {NAME_WHAT}")
    return name


def parse_save_snapshot(body: Fields) -> tuple[str, str | None]:
    """The snapshot's name and the tenant it holds (None: the whole server)."""
    body.only(("name", "tenant"))
    name = body.text("name", max_length=64, pattern=TENANT_NAME, what=NAME_WHAT, required=True) or ""
    return name, body.text("tenant", max_length=64)


async def save_snapshot(request: Request) -> Response:
    """Save a tenant's world, or the whole server's, under a name."""
    sandbox = sandbox_of(request)
    name, tenant_id = parse_save_snapshot(Fields(await json_body(request, required=True)))
    tenant = sandbox.tenants.get(tenant_id) if tenant_id is not None else None
    if tenant_id is not None and tenant is None:
        raise SandboxError(404, f"no tenant {tenant_id!r}")
    return respond(snapshots.save(sandbox, name, tenant).document(), 201)


async def list_snapshots(request: Request) -> Response:
    return respond({"data": sandbox_of(request).snapshots.list()})


async def restore_snapshot(request: Request) -> Response:
    sandbox = sandbox_of(request)
    name = _name(request)
    snapshot = sandbox.snapshots.get(name)
    restored = snapshots.restore(sandbox, name)
    documents = [tenant.document() for tenant in restored]
    if snapshot is not None and snapshot.tenant is not None and len(documents) == 1:
        return respond(documents[0])
    return respond({"data": documents})


async def delete_snapshot(request: Request) -> Response:
    snapshots.delete(sandbox_of(request), _name(request))
    return respond({"success": True})


async def export_snapshot(request: Request) -> Response:
    name = _name(request)
    data = snapshots.export_file(sandbox_of(request), name)
    headers = {"Content-Disposition": f'attachment; filename="{name}.wa-snapshot"'}
    return Response(data, media_type="application/octet-stream", headers=headers)


async def import_snapshot(request: Request) -> Response:
    # The edge has bounded the body already (`max_body_bytes`, 413 past it): one cap for every route.
    data = await request.body()
    if not data:
        raise SandboxError(400, "the body must be a snapshot file (GET /_sandbox/snapshots/{name}/export)")
    return respond(snapshots.import_file(sandbox_of(request), data).document(), 201)


NAME_PARAMETER = {"name": {"type": "string", "pattern": TENANT_NAME.pattern}}
routes = [
    Route(
        "/_sandbox/snapshots", save_snapshot, methods=["POST"], body=parse_save_snapshot, body_required=True, status=201
    ),
    Route("/_sandbox/snapshots", list_snapshots, methods=["GET"]),
    Route(
        "/_sandbox/snapshots/import",
        import_snapshot,
        methods=["POST"],
        **FILE_BODY,
        status=201,
    ),
    Route(
        "/_sandbox/snapshots/{name}", delete_snapshot, methods=["DELETE"], answer="Success", parameters=NAME_PARAMETER
    ),
    Route("/_sandbox/snapshots/{name}/restore", restore_snapshot, methods=["POST"], parameters=NAME_PARAMETER),
    Route(
        "/_sandbox/snapshots/{name}/export",
        export_snapshot,
        methods=["GET"],
        media_types=("application/octet-stream",),
        parameters=NAME_PARAMETER,
    ),
]
