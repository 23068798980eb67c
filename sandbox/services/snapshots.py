"""Named snapshots of one tenant's world or of the whole server: save, list, restore, delete, export, import.

A snapshot holds the same world blobs the data directory does (sandbox/services/persistence.py), with the field
layout they were written under. Restoring one puts each tenant back exactly as it was saved, its clock at the
saved instant (a realtime clock runs on from there); restoring a whole-server snapshot also removes the tenants
created since.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.clock import to_rfc3339, wall_time
from sandbox.context import Sandbox, Tenant
from sandbox.domain.errors import Invalid, NotFound
from sandbox.services import persistence
from sandbox.store import worlds
from sandbox.store.snapshots import Snapshot, export, parse_export
from sandbox.version import __version__

# Named snapshots a server keeps; each is a whole world, so the count is what bounds their memory.
MAX_SNAPSHOTS = 1000


def save(sandbox: Sandbox, name: str, tenant: Tenant | None) -> Snapshot:
    tenants = [tenant] if tenant is not None else list(sandbox.tenants.values())
    if sandbox.snapshots.get(name) is None and len(sandbox.snapshots.list()) >= MAX_SNAPSHOTS:
        raise Invalid(f"at most {MAX_SNAPSHOTS} snapshots are kept: delete one first")
    content = {
        "layout": worlds.layout(),
        "tenants": {each.id: persistence.world_blob(sandbox, each) for each in tenants},
    }
    moment = tenant.clock.now() if tenant is not None else datetime.fromtimestamp(wall_time(), UTC)
    snapshot = Snapshot(name, tenant.id if tenant is not None else None, to_rfc3339(moment), worlds.dumps(content, {}))
    sandbox.snapshots.save(snapshot)
    return snapshot


def _get(sandbox: Sandbox, name: str) -> Snapshot:
    snapshot = sandbox.snapshots.get(name)
    if snapshot is None:
        raise NotFound(f"no snapshot {name!r}")
    return snapshot


def restore(sandbox: Sandbox, name: str) -> list[Tenant]:
    """The tenants of snapshot `name` put back as saved (a whole-server snapshot: every other tenant removed)."""
    return restore_snapshot(sandbox, _get(sandbox, name))


def restore_snapshot(sandbox: Sandbox, snapshot: Snapshot) -> list[Tenant]:
    try:
        content = worlds.loads(snapshot.blob, {})
        blobs, layout = dict(content["tenants"]), dict(content["layout"])
        # Every world is read before any tenant changes: one that cannot be read leaves the server as it was.
        read = [persistence.read_world(sandbox, blob, layout) for blob in blobs.values()]
    except (worlds.FormatError, KeyError, TypeError) as error:
        raise Invalid(f"snapshot {snapshot.name!r} cannot be read: {error}") from None
    restored = [persistence.install_world(sandbox, world, resume=True) for world in read]
    if snapshot.tenant is None:
        for other in [tenant_id for tenant_id in sandbox.tenants if tenant_id not in blobs]:
            sandbox.remove(other)
    return restored


def delete(sandbox: Sandbox, name: str) -> None:
    if not sandbox.snapshots.delete(name):
        raise NotFound(f"no snapshot {name!r}")


def export_file(sandbox: Sandbox, name: str) -> bytes:
    return export(_get(sandbox, name), __version__)


def import_file(sandbox: Sandbox, data: bytes) -> Snapshot:
    try:
        snapshot = parse_export(data, __version__)
        content = worlds.loads(snapshot.blob, {})
        if not isinstance(content, dict) or not isinstance(content.get("tenants"), dict):
            raise worlds.FormatError("the snapshot file holds no tenants")
        # Read now, not at restore: a file that is not a world is refused before it is kept.
        for blob in content["tenants"].values():
            persistence.read_world(sandbox, blob, dict(content.get("layout") or {}), rows_now=True)
    except (worlds.FormatError, TypeError, ValueError) as error:
        raise Invalid(str(error)) from None
    if sandbox.snapshots.get(snapshot.name) is None and len(sandbox.snapshots.list()) >= MAX_SNAPSHOTS:
        raise Invalid(f"at most {MAX_SNAPSHOTS} snapshots are kept: delete one first")
    sandbox.snapshots.save(snapshot)
    return snapshot
