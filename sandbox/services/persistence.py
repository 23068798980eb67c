"""Tenants' worlds in the data directory: what a world is, checkpoints, and loading a directory at start-up.

A tenant's world is the `Tenant` object graph (store, clock with its scheduled work, policy, faults, generators,
partners, webhook settings), its share of the outbox (log, counters, lanes and their pending deliveries) and the
numbers it holds in the server's registry. It is pickled whole (sandbox/store/worlds.py), so an object type added
later is persisted with no code here. Checkpoints batch writes: every `checkpoint_interval` seconds, the tenants
marked dirty since the last one (by a Graph call, a control-plane change, a clock firing or a delivery attempt)
are written in one transaction. With `checkpoint_mode` `fork` a child process does the pickling and writing on a
copy-on-write image of the server, so the server itself pauses only for the fork (docs/persistence.md).
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import Any

from sandbox.clock import to_rfc3339, wall_time
from sandbox.context import Sandbox, Tenant, watch_clock
from sandbox.store import worlds
from sandbox.store.snapshots import DataDirSnapshots
from sandbox.store.sqlite import DataDir
from sandbox.version import __version__

log = logging.getLogger("sandbox.persistence")
CHILD_NICENESS = 10


def _shared(sandbox: Sandbox) -> dict[str, object]:
    return {"outbox": sandbox.outbox, "numbers": sandbox.numbers}


def world_blob(sandbox: Sandbox, tenant: Tenant) -> bytes:
    queue, lanes = sandbox.outbox.share_of(tenant.id)
    owners = {digits: owner for digits, owner in sandbox.numbers.owners.items() if owner[0] == tenant.id}
    world = {"tenant": tenant, "queue": queue, "lanes": lanes, "owners": owners}
    return worlds.dumps(world, _shared(sandbox))


def read_world(
    sandbox: Sandbox, blob: bytes, layout: dict[str, tuple[str, ...]], *, rows_now: bool = False
) -> dict[str, Any]:
    """A saved world, read but not yet in place (reading changes nothing: a bad blob leaves the server as it was).
    Its message table's rows are read when first needed (sandbox/store/worlds.py); `rows_now`: here."""
    world: dict[str, Any] = worlds.loads(blob, _shared(sandbox), layout, rows_now=rows_now)
    if not isinstance(world, dict) or not isinstance(world.get("tenant"), Tenant):
        raise worlds.FormatError("the stored world holds no tenant")
    return world


def install_world(sandbox: Sandbox, world: dict[str, Any], *, resume: bool) -> Tenant:
    """Put a read world in place of the tenant of its id (if any). `resume`: its clock goes on from the instant
    it was saved; otherwise a realtime clock catches up with the wall time since, and what fell due fires."""
    tenant: Tenant = world["tenant"]
    sandbox.remove(tenant.id)
    tenant.outbox, tenant.numbers = sandbox.outbox, sandbox.numbers
    watch_clock(tenant)
    if resume:
        tenant.clock.resume()
    sandbox.add(tenant)
    sandbox.numbers.owners.update(world["owners"])
    sandbox.outbox.adopt(tenant.id, world["queue"], world["lanes"])
    return tenant


def load_world(sandbox: Sandbox, blob: bytes, layout: dict[str, tuple[str, ...]], *, resume: bool) -> Tenant:
    return install_world(sandbox, read_world(sandbox, blob, layout), resume=resume)


def server_blob(sandbox: Sandbox) -> bytes:
    state = {
        "ids": sandbox.ids,
        "tenant_counter": sandbox.tenant_counter,
        "builds": sandbox.builds,
        "app_accounts": sandbox.numbers.app_accounts,
        "next_delivery": sandbox.outbox.next_id,
    }
    return worlds.dumps(state, {})


def load_server(sandbox: Sandbox, blob: bytes, layout: dict[str, tuple[str, ...]]) -> None:
    state = worlds.loads(blob, {}, layout)
    sandbox.ids = state["ids"]
    sandbox.tenant_counter = max(sandbox.tenant_counter, state["tenant_counter"])
    sandbox.builds = max(sandbox.builds, state["builds"])
    sandbox.numbers.app_accounts.update(state["app_accounts"])
    sandbox.outbox.continue_ids(state["next_delivery"])


def open_data_dir(sandbox: Sandbox, path: str, *, catch_up: str = "fire") -> int:
    """Use `path` as the sandbox's data directory, loading every tenant stored there; returns how many.

    Raises DataDirError (a one-line reason) for a directory of another format; FormatError for one that cannot be
    read. `catch_up`: `fire` (a realtime clock catches up, firing what fell due in time order) or `skip` (it goes
    on from where it stopped).
    """
    data_dir = DataDir(path)
    data_dir.open(__version__)
    stored = data_dir.load()
    if stored.server is not None:
        load_server(sandbox, stored.server, stored.layout)
    for blob in stored.tenants.values():
        load_world(sandbox, blob, stored.layout, resume=catch_up == "skip")
    sandbox.data_dir = data_dir
    sandbox.snapshots = DataDirSnapshots(data_dir)
    if worlds.layout_digest(stored.layout) == worlds.layout_digest(worlds.layout()):
        sandbox.dirty.clear()
    sandbox.removed.clear()
    return len(stored.tenants)


def _take(sandbox: Sandbox) -> tuple[set[str], set[str]]:
    """The tenants to write and to delete at this checkpoint; the marks are cleared."""
    dirty = (sandbox.dirty | sandbox.outbox.touched) & sandbox.tenants.keys()
    removed = set(sandbox.removed)
    sandbox.dirty.clear()
    sandbox.outbox.touched.clear()
    sandbox.removed.clear()
    return dirty, removed


def write(sandbox: Sandbox, dirty: set[str], removed: set[str]) -> None:
    """Serialise `dirty` and write them, with the server's state, in one transaction."""
    data_dir = sandbox.data_dir
    if data_dir is None:
        return
    blobs = {tenant_id: world_blob(sandbox, sandbox.tenants[tenant_id]) for tenant_id in sorted(dirty)}
    # The row's wall time, for people reading the database; no tenant logic reads it.
    saved_at = to_rfc3339(datetime.fromtimestamp(wall_time(), UTC))
    data_dir.write(blobs, removed, server_blob(sandbox), worlds.layout(), saved_at)


def checkpoint(sandbox: Sandbox) -> int:
    """Write what changed since the last checkpoint, in this process; returns how many tenants were written."""
    dirty, removed = _take(sandbox)
    if dirty or removed:
        try:
            write(sandbox, dirty, removed)
        except Exception:
            sandbox.dirty |= dirty
            sandbox.removed |= removed
            raise
    return len(dirty)


class Checkpointer:
    """Runs checkpoints every interval (`tick`, called by the server's ticker) in this process or in a fork."""

    def __init__(self, sandbox: Sandbox, mode: str = "fork") -> None:
        self.sandbox = sandbox
        self.fork = mode == "fork" and hasattr(os, "fork")
        self._child: tuple[int, set[str], set[str]] | None = None
        self.written = 0
        self.failures = 0

    def tick(self) -> None:
        if self._child is not None and not self._reap(block=False):
            return
        if not self.fork:
            self.written += checkpoint(self.sandbox)
            return
        dirty, removed = _take(self.sandbox)
        if not dirty and not removed:
            return
        pid = os.fork()
        if pid == 0:  # the child: a frozen image of the server at this instant
            code = 1
            try:
                # A lower share of a busy CPU than the requests being served (nice 19 starved it: see persistence.md).
                os.nice(CHILD_NICENESS)
                write(self.sandbox, dirty, removed)
                code = 0
            except BaseException:
                log.exception("a checkpoint failed in its child process")
            finally:
                os._exit(code)
        self._child = (pid, dirty, removed)

    def _reap(self, *, block: bool) -> bool:
        """Whether the running child has finished (its tenants marked dirty again if it failed)."""
        assert self._child is not None
        pid, dirty, removed = self._child
        done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
        if done == 0:
            return False
        self._child = None
        if os.waitstatus_to_exitcode(status) == 0:
            self.written += len(dirty)
        else:
            self.failures += 1
            log.error("a checkpoint's child process failed (status %s); its tenants are written again", status)
            self.sandbox.dirty |= dirty
            self.sandbox.removed |= removed
        return True

    def close(self) -> None:
        """The last checkpoint, when the server stops: wait for a running child, then write what is left here."""
        if self._child is not None:
            self._reap(block=True)
        self.written += checkpoint(self.sandbox)

    def health(self) -> dict[str, Any]:
        return {"mode": "fork" if self.fork else "inline", "written": self.written, "failures": self.failures}
