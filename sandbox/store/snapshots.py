"""Named snapshots: in memory, or in the data directory's `snapshots` table; and the one-file export format.

An export is a header line (`wa-sandbox-snapshot`, then JSON: format version, package version, name, tenant,
created_at, layout) followed by the snapshot's blob. A file of another format is refused, never read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from sandbox.store.sqlite import DataDir
from sandbox.store.worlds import FORMAT_VERSION, READABLE_FORMATS, FormatError

MAGIC = b"wa-sandbox-snapshot "
HEADER_LIMIT = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Snapshot:
    name: str
    tenant: str | None
    created_at: str
    blob: bytes

    def document(self) -> dict[str, Any]:
        return {"name": self.name, "tenant": self.tenant, "created_at": self.created_at, "size": len(self.blob)}


class Snapshots(Protocol):
    def save(self, snapshot: Snapshot) -> None: ...

    def get(self, name: str) -> Snapshot | None: ...

    def list(self) -> list[dict[str, Any]]: ...

    def delete(self, name: str) -> bool: ...


class MemorySnapshots:
    """Snapshots of a server without a data directory: gone when it stops (export keeps one)."""

    def __init__(self) -> None:
        self._saved: dict[str, Snapshot] = {}

    def save(self, snapshot: Snapshot) -> None:
        self._saved[snapshot.name] = snapshot

    def get(self, name: str) -> Snapshot | None:
        return self._saved.get(name)

    def list(self) -> list[dict[str, Any]]:
        return [self._saved[name].document() for name in sorted(self._saved)]

    def delete(self, name: str) -> bool:
        return self._saved.pop(name, None) is not None

    def __len__(self) -> int:
        return len(self._saved)


class DataDirSnapshots:
    """Snapshots kept in the data directory, beside the worlds: they survive restarts."""

    def __init__(self, data_dir: DataDir) -> None:
        self._dir = data_dir

    def save(self, snapshot: Snapshot) -> None:
        self._dir.save_snapshot(snapshot.name, snapshot.tenant, snapshot.created_at, snapshot.blob)

    def get(self, name: str) -> Snapshot | None:
        found = self._dir.snapshot(name)
        return Snapshot(name, found[0], found[1], found[2]) if found is not None else None

    def list(self) -> list[dict[str, Any]]:
        return [
            {"name": name, "tenant": tenant, "created_at": created_at, "size": size}
            for name, tenant, created_at, size in self._dir.snapshots()
        ]

    def delete(self, name: str) -> bool:
        return self._dir.delete_snapshot(name)

    def __len__(self) -> int:
        return len(self._dir.snapshots())


def export(snapshot: Snapshot, package_version: str) -> bytes:
    header = {
        "format": FORMAT_VERSION,
        "version": package_version,
        "name": snapshot.name,
        "tenant": snapshot.tenant,
        "created_at": snapshot.created_at,
    }
    return MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + snapshot.blob


def parse_export(data: bytes, package_version: str) -> Snapshot:
    """The snapshot in an exported file; FormatError (one line) for anything else or another format."""
    if not data.startswith(MAGIC):
        raise FormatError("not a wa-sandbox snapshot file (it must start with 'wa-sandbox-snapshot ')")
    end = data.find(b"\n", 0, HEADER_LIMIT)
    if end < 0:
        raise FormatError("the snapshot file's header line is missing or too long")
    try:
        header = json.loads(data[len(MAGIC) : end])
        name, tenant, created_at, form = header["name"], header["tenant"], header["created_at"], header["format"]
    except (ValueError, KeyError, TypeError):
        raise FormatError("the snapshot file's header is not the JSON object an export writes") from None
    if form not in READABLE_FORMATS:
        raise FormatError(
            f"the snapshot file is in storage format {form} (wa-sandbox {header.get('version')}); this release "
            f"({package_version}) reads formats {', '.join(map(str, READABLE_FORMATS))}"
        )
    if not isinstance(name, str) or not (tenant is None or isinstance(tenant, str)) or not isinstance(created_at, str):
        raise FormatError("the snapshot file's header has a name, tenant or created_at of the wrong type")
    return Snapshot(name, tenant, created_at, data[end + 1 :])
