"""The tenant store's bounds (issue 15 item 5): least-recently-used eviction that spares what is held, key-ordered
pages, and media freed when it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sandbox.domain.media import Media
from sandbox.store.memory import UNREAD_LIMIT, Conversation, MediaTable, Table

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_evict_forgets_the_least_recently_used_and_spares_kept_rows() -> None:
    table: Table[str] = Table()
    for key in "abcde":
        table.add(key, key)
    table.touch("a")
    table.evict(3, keep=lambda row: row == "b")
    assert list(table) == ["e", "a", "b"]


def test_evict_gives_up_after_its_tries_so_a_send_never_scans() -> None:
    table: Table[int] = Table()
    for n in range(100):
        table.add(str(n), n)
    table.evict(10, keep=lambda _: True, tries=8)
    assert len(table) == 100


@given(st.lists(st.integers(0, 50), max_size=60), st.integers(1, 10))
def test_pages_walk_every_key_once_in_order(keys: list[int], limit: int) -> None:
    table: Table[str] = Table()
    for key in keys:
        table.add(f"{key:03d}", f"{key:03d}")
    seen: list[str] = []
    after = None
    while page := table.page(limit, after):
        seen += page
        after = page[-1]
    assert seen == sorted({f"{key:03d}" for key in keys})


def media(n: int, ttl_days: float, size: int = 10) -> Media:
    return Media(
        id=str(n),
        mime_type="image/png",
        sha256="",
        file_size=size,
        phone_number_id="",
        created_at=T0,
        expires_at=T0 + timedelta(days=ttl_days),
        data=b"x" * size,
    )


@given(st.lists(st.tuples(st.integers(0, 20), st.floats(0.5, 40)), max_size=40), st.floats(0, 45))
def test_media_bytes_are_those_of_live_objects_after_expiry(rows: list[tuple[int, float]], at: float) -> None:
    table = MediaTable()
    for n, ttl in rows:
        table.add(str(n), media(n, ttl, size=n + 1))
    now = T0 + timedelta(days=at)
    table.expire(now)
    assert all(not row.expired(now) for row in table)
    assert table.bytes == sum(len(row.data or b"") for row in table)
    live = {str(n): ttl for n, ttl in rows}
    assert {row.id for row in table} == {key for key, ttl in live.items() if T0 + timedelta(days=ttl) > now}


def test_a_conversation_keeps_unread_wamids_in_arrival_order_and_reads_up_to_one() -> None:
    conversation = Conversation()
    assert conversation.read_up_to("w0") == []
    for n in range(4):
        conversation.received(f"w{n}")
    assert conversation.read_up_to("w9") == []
    assert conversation.read_up_to("w1") == ["w0", "w1"]
    assert conversation.read_up_to("w1") == []
    assert conversation.read_up_to("w3") == ["w2", "w3"]


def test_a_conversation_keeps_at_most_the_unread_limit() -> None:
    conversation = Conversation()
    for n in range(UNREAD_LIMIT + 5):
        conversation.received(f"w{n}")
    assert conversation.read_up_to("w4") == []
    assert len(conversation.read_up_to(f"w{UNREAD_LIMIT + 4}")) == UNREAD_LIMIT
