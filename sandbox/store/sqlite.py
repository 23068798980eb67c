"""The data directory: one SQLite database (standard library, WAL mode) holding every tenant's world.

Tables: `meta` (format version, package version, the layout worlds were written under, the server's own state),
`tenants` (tenant id → world blob, saved_at) and `snapshots` (named snapshots, docs/persistence.md). Each
checkpoint writes its tenants in one transaction, so a crash at any moment leaves the previous checkpoint or the
new one, never a mix. Connections are short-lived: a checkpoint may run in a forked child, which must never use
a connection its parent opened.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from sandbox.store.worlds import FORMAT_VERSION, READABLE_FORMATS

DATABASE = "world.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY, world BLOB NOT NULL, format INTEGER NOT NULL, saved_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots (
    name TEXT PRIMARY KEY, tenant TEXT, created_at TEXT NOT NULL, format INTEGER NOT NULL, blob BLOB NOT NULL
);
"""


class DataDirError(RuntimeError):
    """The data directory cannot be used (another format, not a sandbox database, unwritable): one line says why."""


@dataclass(frozen=True, slots=True)
class Stored:
    """What a data directory holds when the server starts."""

    server: bytes | None
    layout: dict[str, tuple[str, ...]]
    tenants: dict[str, bytes]


class DataDir:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.database = self.path / DATABASE

    def open(self, package_version: str) -> None:
        """Create the directory and its schema, or check the format of the one there (refusing another)."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                for statement in _SCHEMA.split(";"):
                    db.execute(statement)
                found = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('format', 'version')"))
                if not found:
                    db.executemany(
                        "INSERT INTO meta (key, value) VALUES (?, ?)",
                        [("format", str(FORMAT_VERSION)), ("version", package_version)],
                    )
        except sqlite3.DatabaseError as error:
            raise DataDirError(f"{self.database} is not a wa-sandbox data directory ({error})") from None
        except OSError as error:
            raise DataDirError(f"cannot use {self.path} as the data directory: {error}") from None
        if found and str(found.get("format")) not in {str(form) for form in READABLE_FORMATS}:
            raise DataDirError(
                f"{self.path} was written in storage format {found.get('format')} by wa-sandbox "
                f"{found.get('version')}; this release ({package_version}) reads formats "
                f"{', '.join(map(str, READABLE_FORMATS))}: start it on another --data-dir (or run the release that "
                "wrote it and export snapshots)"
            )
        if found and str(found.get("format")) != str(FORMAT_VERSION):
            # An older format this release reads (each blob says which it is): from now on it writes its own, so the
            # directory is marked with it, and the release that wrote it refuses it instead of misreading it.
            with self._connect() as db:
                db.execute("UPDATE meta SET value = ? WHERE key = 'format'", (str(FORMAT_VERSION),))

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.database, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL cannot corrupt on a crash; a power cut may lose the last checkpoint.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    def load(self) -> Stored:
        with self._connect() as db:
            meta = dict(db.execute("SELECT key, value FROM meta"))
            tenants = {row[0]: bytes(row[1]) for row in db.execute("SELECT id, world FROM tenants ORDER BY rowid")}
        layout = {key: tuple(names) for key, names in json.loads(meta.get("layout") or "{}").items()}
        server = meta.get("server")
        return Stored(bytes(server) if server is not None else None, layout, tenants)

    def write(
        self,
        tenants: Mapping[str, bytes],
        removed: Iterable[str],
        server: bytes,
        layout: Mapping[str, tuple[str, ...]],
        saved_at: str,
    ) -> None:
        """One checkpoint, in one transaction: the tenants changed since the last one, those removed, the server."""
        with self._connect() as db:
            db.executemany("DELETE FROM tenants WHERE id = ?", [(tenant_id,) for tenant_id in removed])
            db.executemany(
                "INSERT INTO tenants (id, world, format, saved_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET world = excluded.world, format = excluded.format, "
                "saved_at = excluded.saved_at",
                [(tenant_id, blob, FORMAT_VERSION, saved_at) for tenant_id, blob in tenants.items()],
            )
            db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [("server", server), ("layout", json.dumps(dict(layout), sort_keys=True))],
            )

    # -- named snapshots (sandbox/store/snapshots.py) --------------------------------------------------------------

    def save_snapshot(self, name: str, tenant: str | None, created_at: str, blob: bytes) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO snapshots (name, tenant, created_at, format, blob) VALUES (?, ?, ?, ?, ?)",
                (name, tenant, created_at, FORMAT_VERSION, blob),
            )

    def snapshots(self) -> list[tuple[str, str | None, str, int]]:
        with self._connect() as db:
            return list(db.execute("SELECT name, tenant, created_at, length(blob) FROM snapshots ORDER BY name"))

    def snapshot(self, name: str) -> tuple[str | None, str, bytes] | None:
        with self._connect() as db:
            row = db.execute("SELECT tenant, created_at, blob FROM snapshots WHERE name = ?", (name,)).fetchone()
        return (row[0], row[1], bytes(row[2])) if row is not None else None

    def delete_snapshot(self, name: str) -> bool:
        with self._connect() as db:
            return db.execute("DELETE FROM snapshots WHERE name = ?", (name,)).rowcount > 0
