"""A saved world writes its message table's rows after everything else and a restored one reads them when first
needed (sandbox/store/worlds.py, `Table.rows_later`): restoring a big tenant makes its keys, not its messages."""

from __future__ import annotations

import gc
import logging
import weakref
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from starlette.testclient import TestClient

from sandbox.context import Sandbox
from sandbox.domain.errors import Invalid
from sandbox.services import persistence, snapshots, world
from sandbox.store import Table, worlds
from sandbox.store.memory import Awaiting
from sandbox.store.snapshots import Snapshot, export
from sandbox.store.sqlite import DataDir
from sandbox.version import __version__
from tests.store import test_worlds

rich = test_worlds.rich
_deliveries, _pending = test_worlds._deliveries, test_worlds._pending


@pytest.fixture
def rows_later(monkeypatch: pytest.MonkeyPatch) -> None:
    # The rich world has 7 messages, not thousands: parts of 2, 3 and the rest (2), newest first.
    monkeypatch.setattr(worlds, "LATER_ROWS", 1)
    monkeypatch.setattr(worlds, "LATER_PARTS", (2, 3))


def _damaged(blob: bytes) -> bytes:
    return blob[:-12] + b"\xff" * 12  # the last part's pickle (the oldest rows), its length kept


def _restore(sandbox: Sandbox, tenant_id: str) -> Any:
    blob = persistence.world_blob(sandbox, sandbox.tenants[tenant_id])
    assert blob.startswith(b"WSW2")
    return persistence.load_world(sandbox, blob, worlds.layout(), resume=True)


def test_a_rich_world_round_trips_with_its_rows_read_later(rich: tuple[Sandbox, TestClient], rows_later: None) -> None:
    sandbox, _ = rich
    tenant = sandbox.tenants["t1"]
    before = (world.snapshot(tenant), _pending(tenant), _deliveries(sandbox, tenant))
    restored = _restore(sandbox, "t1")
    assert restored.store.messages._source is not None and len(restored.store.messages) == 7
    assert (world.snapshot(restored), _pending(restored), _deliveries(sandbox, restored)) == before
    assert restored.store.messages._source is None  # the snapshot read them


def test_a_message_that_pending_work_holds_is_the_row_it_reads_later(
    rich: tuple[Sandbox, TestClient], rows_later: None
) -> None:
    sandbox, client = rich
    restored = _restore(sandbox, "t1")
    client.post("/_sandbox/tenants/t1/clock/advance", json={"seconds": 5})  # the waiting `sent` moves its message
    assert restored.store.messages._source is not None
    [again] = [m for m in restored.store.messages if m.content == {"body": "hi again"}]
    assert again.status != "accepted", "the move changed the very message the table holds"


def test_keys_alone_do_not_read_the_rows(rich: tuple[Sandbox, TestClient], rows_later: None) -> None:
    sandbox, _ = rich
    saved = [(m.wamid, m.status) for m in sandbox.tenants["t1"].store.messages]
    table = _restore(sandbox, "t1").store.messages
    first, newest = saved[0][0], saved[-1][0]
    table.add("wamid.new", "a new row")
    table.touch(first)
    assert len(table) == len(saved) + 1 and first in table and "nothing" not in table
    assert table.get("wamid.new") == "a new row" and table._source is not None
    assert table.remove("wamid.new") == "a new row" and table._source is not None
    assert table.get(newest).status == saved[-1][1] and table._source is not None  # the newest part only
    assert table.get(first).status == saved[0][1] and table._source is None  # the oldest: every part
    assert [m.wamid for m in table] == [wamid for wamid, _ in saved[1:]] + [first]  # `touch` kept its place


def test_saving_a_world_whose_rows_are_unread_reads_them(rich: tuple[Sandbox, TestClient], rows_later: None) -> None:
    sandbox, _ = rich
    before = world.snapshot(sandbox.tenants["t1"])
    _restore(sandbox, "t1")
    again = _restore(sandbox, "t1")  # saved while its rows were still unread
    assert world.snapshot(again) == before


@pytest.mark.sandbox_errors
def test_rows_that_cannot_be_read_are_dropped_and_logged(
    rich: tuple[Sandbox, TestClient], rows_later: None, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox, _ = rich
    saved = [m.wamid for m in sandbox.tenants["t1"].store.messages]
    blob = _damaged(persistence.world_blob(sandbox, sandbox.tenants["t1"]))
    with pytest.raises(worlds.FormatError, match="rows cannot be read"):
        persistence.read_world(sandbox, blob, worlds.layout(), rows_now=True)
    table = persistence.load_world(sandbox, blob, worlds.layout(), resume=True).store.messages
    assert table.get(saved[-1]).wamid == saved[-1] and table.get(saved[2]).wamid == saved[2]  # parts 0 and 1
    with caplog.at_level(logging.ERROR, logger="sandbox.store.worlds"):
        assert table.get(saved[0]) is None
    assert [m.wamid for m in table] == saved[2:] and "could not be read" in caplog.text
    assert table._source is None


def test_an_import_whose_rows_cannot_be_read_is_refused(rich: tuple[Sandbox, TestClient], rows_later: None) -> None:
    sandbox, _ = rich
    blob = _damaged(persistence.world_blob(sandbox, sandbox.tenants["t1"]))
    content = worlds.dumps({"layout": worlds.layout(), "tenants": {"t1": blob}}, {})
    data = export(Snapshot("cut", "t1", "2026-01-01T00:00:00Z", content), __version__)
    with pytest.raises(Invalid, match="rows cannot be read"):
        snapshots.import_file(sandbox, data)


def test_reading_a_recent_message_reads_only_the_newest_part(
    rich: tuple[Sandbox, TestClient], rows_later: None
) -> None:
    sandbox, _ = rich
    saved = [m.wamid for m in sandbox.tenants["t1"].store.messages]
    table = _restore(sandbox, "t1").store.messages
    assert table.get(saved[-1]).wamid == saved[-1]
    assert [type(table._rows[key]) is Awaiting for key in saved] == [True] * 5 + [False] * 2
    assert [m.wamid for m in table.newest(4)] == saved[:-5:-1]  # reads the middle part, not the oldest
    assert [type(table._rows[key]) is Awaiting for key in saved] == [True] * 2 + [False] * 5
    assert table._source is not None


def test_a_removed_tenant_lets_go_of_its_unread_rows_at_once(
    rich: tuple[Sandbox, TestClient], rows_later: None
) -> None:
    sandbox, _ = rich
    restored = _restore(sandbox, "t1")
    rows, store = weakref.ref(restored.store.messages._source), weakref.ref(restored.store)
    del restored
    sandbox.remove("t1")
    assert rows() is None  # what reads them holds the whole world it was loaded with
    gc.collect()
    assert store() is None


def test_format_1_is_read_and_a_format_1_data_dir_is_marked_2(tmp_path: Path, rich: tuple[Sandbox, TestClient]) -> None:
    sandbox, _ = rich
    plain = persistence.world_blob(sandbox, sandbox.tenants["t1"])  # a few rows: written with their table
    assert plain.startswith(b"\x80")
    assert persistence.read_world(sandbox, plain, worlds.layout())["tenant"].id == "t1"
    data_dir = DataDir(tmp_path)
    data_dir.open(__version__)
    with data_dir._connect() as db:
        db.execute("UPDATE meta SET value = '1' WHERE key = 'format'")
    data_dir.open(__version__)
    with data_dir._connect() as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone() == ("2",)


KEYS = st.sampled_from([f"k{index}" for index in range(12)])


class LaterRowsAgainstEager(RuleBasedStateMachine):
    """A table saved and restored at any moment (its rows then read later) answers every call as one never saved."""

    def __init__(self) -> None:
        super().__init__()
        self.patch = pytest.MonkeyPatch()
        self.patch.setattr(worlds, "LATER_ROWS", 1)
        self.patch.setattr(worlds, "LATER_PARTS", (1, 2))
        self.model: Table[dict[str, int]] = Table(max_size=9)
        self.table: Table[dict[str, int]] = Table(max_size=9, rows_later=True)
        self.count = 0

    def teardown(self) -> None:
        self.patch.undo()

    def _row(self) -> dict[str, int]:
        self.count += 1
        return {"n": self.count}

    @rule(key=KEYS)
    def add(self, key: str) -> None:
        row = self._row()
        self.model.add(key, row)
        self.table.add(key, dict(row))

    @rule()
    def save_and_restore(self) -> None:
        self.table = worlds.loads(worlds.dumps({"table": self.table}, {}), {})["table"]

    @rule(key=KEYS)
    def get(self, key: str) -> None:
        assert self.table.get(key) == self.model.get(key)

    @rule(key=KEYS)
    def remove(self, key: str) -> None:
        assert self.table.remove(key) == self.model.remove(key)

    @rule(key=KEYS)
    def touch(self, key: str) -> None:
        if key in self.model:
            self.model.touch(key)
            self.table.touch(key)

    @rule(size=st.integers(0, 9))
    def evict(self, size: int) -> None:
        self.model.evict(size, lambda row: row["n"] % 2 == 0)
        self.table.evict(size, lambda row: row["n"] % 2 == 0)

    @rule(limit=st.integers(1, 5), after=st.none() | KEYS)
    def page(self, limit: int, after: str | None) -> None:
        assert self.table.page(limit, after) == self.model.page(limit, after)

    @rule(limit=st.integers(1, 5))
    def newest(self, limit: int) -> None:
        assert self.table.newest(limit) == self.model.newest(limit)

    @rule(size=st.integers(1, 9))
    def resize(self, size: int) -> None:
        self.model.max_size = self.table.max_size = size

    @invariant()
    def same_keys_in_the_same_order(self) -> None:
        assert list(self.table._rows) == list(self.model._rows) and len(self.table) == len(self.model)

    @invariant()
    def only_unread_rows_await(self) -> None:
        waiting = any(type(row) is Awaiting for row in self.table._rows.values())
        assert self.table._source is not None or not waiting


TestLaterRowsAgainstEager = LaterRowsAgainstEager.TestCase
TestLaterRowsAgainstEager.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
