"""`TenantClock`: frozen and realtime modes over an injected wall source, compression, advance, the scheduler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.clock import LATEST, TenantClock, parse_rfc3339, to_rfc3339

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self, at: float = 1_000.0) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def test_frozen_clock_ignores_wall_time() -> None:
    wall = Wall()
    clock = TenantClock(START, mode="frozen", wall=wall)
    wall.at += 3600
    assert clock.now() == START


def test_realtime_clock_follows_wall_time() -> None:
    wall = Wall()
    clock = TenantClock(START, mode="realtime", wall=wall)
    wall.at += 90
    assert clock.now() == START + timedelta(seconds=90)


def test_realtime_clock_without_start_begins_at_wall_time() -> None:
    wall = Wall(1_767_603_600.0)
    clock = TenantClock(wall=wall)
    assert clock.now() == datetime.fromtimestamp(1_767_603_600.0, UTC)


@pytest.mark.parametrize("rate", [1.0, 60.0, 3600.0, 0.5])
def test_rate_compresses_time(rate: float) -> None:
    wall = Wall()
    clock = TenantClock(START, mode="realtime", rate=rate, wall=wall)
    wall.at += 10
    assert clock.now() == START + timedelta(seconds=10 * rate)


def test_changing_rate_keeps_the_time_reached_so_far() -> None:
    wall = Wall()
    clock = TenantClock(START, mode="realtime", wall=wall)
    wall.at += 10
    clock.configure(rate=100.0)
    assert clock.now() == START + timedelta(seconds=10)
    wall.at += 1
    assert clock.now() == START + timedelta(seconds=110)


def test_freezing_and_unfreezing_keeps_the_time() -> None:
    wall = Wall()
    clock = TenantClock(START, mode="realtime", wall=wall)
    wall.at += 5
    clock.configure(mode="frozen")
    wall.at += 1000
    assert clock.now() == START + timedelta(seconds=5)
    clock.configure(mode="realtime")
    wall.at += 2
    assert clock.now() == START + timedelta(seconds=7)


def test_advance_moves_a_frozen_clock() -> None:
    clock = TenantClock(START, mode="frozen", wall=Wall())
    clock.advance(3600)
    assert clock.now() == START + timedelta(hours=1)
    clock.advance(to=START + timedelta(days=2))
    assert clock.now() == START + timedelta(days=2)


def test_advance_on_a_realtime_clock_adds_to_wall_time() -> None:
    wall = Wall()
    clock = TenantClock(START, mode="realtime", rate=2.0, wall=wall)
    clock.advance(60)
    wall.at += 1
    assert clock.now() == START + timedelta(seconds=62)


def test_advance_backwards_is_refused() -> None:
    clock = TenantClock(START, mode="frozen", wall=Wall())
    with pytest.raises(ValueError):
        clock.advance(to=START - timedelta(seconds=1))
    assert clock.now() == START


def test_advance_fires_in_time_order_each_at_its_own_time() -> None:
    clock = TenantClock(START, mode="frozen", wall=Wall())
    seen: list[tuple[str, datetime]] = []
    for name, seconds in [("c", 30), ("a", 10), ("b", 20), ("a2", 10)]:
        clock.call_later(seconds, lambda name=name: seen.append((name, clock.now())))
    clock.call_later(100, lambda: seen.append(("late", clock.now())))
    assert clock.advance(50) == 4
    assert seen == [
        ("a", START + timedelta(seconds=10)),
        ("a2", START + timedelta(seconds=10)),
        ("b", START + timedelta(seconds=20)),
        ("c", START + timedelta(seconds=30)),
    ]
    assert clock.now() == START + timedelta(seconds=50)
    assert clock.pending == 1


def test_callbacks_scheduling_callbacks_fire_within_the_same_advance() -> None:
    clock = TenantClock(START, mode="frozen", wall=Wall())
    seen: list[datetime] = []

    def chain(depth: int) -> None:
        seen.append(clock.now())
        if depth:
            clock.call_later(5, lambda: chain(depth - 1))

    clock.call_later(5, lambda: chain(3))
    clock.call_later(12, lambda: seen.append(START))  # between chain steps, to check the interleaving
    assert clock.advance(100) == 5
    assert seen == [
        START + timedelta(seconds=5),
        START + timedelta(seconds=10),
        START,
        START + timedelta(seconds=15),
        START + timedelta(seconds=20),
    ]


def test_callback_scheduled_at_zero_delay_fires_in_the_same_run() -> None:
    clock = TenantClock(START, mode="frozen", wall=Wall())
    seen: list[str] = []
    clock.call_later(0, lambda: (seen.append("first"), clock.call_later(0, lambda: seen.append("second"))))
    assert clock.run_due() == 2
    assert seen == ["first", "second"]


def test_callbacks_beyond_the_target_wait() -> None:
    clock = TenantClock(START, mode="frozen", wall=Wall())
    seen: list[str] = []
    clock.call_later(10, lambda: clock.call_later(100, lambda: seen.append("later")))
    clock.advance(20)
    assert seen == []
    assert clock.next_due() == START + timedelta(seconds=110)
    clock.advance(90)
    assert seen == ["later"]


def test_cancel() -> None:
    clock = TenantClock(START, mode="frozen", wall=Wall())
    seen: list[str] = []
    call = clock.call_later(10, lambda: seen.append("cancelled"))
    clock.call_later(20, lambda: seen.append("kept"))
    call.cancel()
    assert clock.pending == 1
    assert clock.next_due() == START + timedelta(seconds=20)
    assert clock.advance(30) == 1
    assert seen == ["kept"]


def test_realtime_run_due_fires_what_wall_time_reached() -> None:
    wall = Wall()
    clock = TenantClock(START, mode="realtime", rate=60.0, wall=wall)
    seen: list[datetime] = []
    clock.call_later(60, lambda: seen.append(clock.now()))
    assert clock.run_due() == 0
    wall.at += 1
    assert clock.run_due() == 1
    assert seen == [START + timedelta(seconds=60)]


def test_call_at_in_the_past_fires_on_the_next_run() -> None:
    clock = TenantClock(START, mode="frozen", wall=Wall())
    seen: list[datetime] = []
    clock.call_at(START - timedelta(hours=1), lambda: seen.append(clock.now()))
    assert clock.run_due() == 1
    assert seen == [START - timedelta(hours=1)]


def test_snapshot() -> None:
    clock = TenantClock(START, mode="frozen", rate=2.0, wall=Wall())
    clock.call_later(1, lambda: None)
    assert clock.snapshot() == {"now": "2026-01-05T09:00:00Z", "mode": "frozen", "rate": 2.0, "pending_events": 1}


@given(delays=st.lists(st.integers(min_value=0, max_value=10_000), max_size=30), step=st.integers(1, 5_000))
def test_advancing_in_steps_fires_everything_in_time_order(delays: list[int], step: int) -> None:
    clock = TenantClock(START, mode="frozen", wall=Wall())
    fired: list[tuple[datetime, int]] = []
    for index, delay in enumerate(delays):
        clock.call_later(delay, lambda index=index: fired.append((clock.now(), index)))
    total = 0
    while clock.now() < START + timedelta(seconds=10_000):
        total += clock.advance(step)
    assert total == len(delays)
    assert fired == sorted(fired)
    assert [at for at, _ in fired] == sorted(START + timedelta(seconds=d) for d in delays)


@given(moment=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_rfc3339_round_trip_to_the_millisecond(moment: datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert parse_rfc3339(to_rfc3339(moment)) == moment


@pytest.mark.sandbox_errors
def test_a_failing_callback_is_reported_and_the_others_still_fire() -> None:
    clock = TenantClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), mode="frozen")
    fired: list[str] = []
    errors: list[Exception] = []
    clock.on_error = lambda error, at: errors.append(error)

    def broken() -> None:
        raise RuntimeError("boom")

    clock.call_later(1, broken)
    clock.call_later(2, lambda: fired.append("after"))
    assert clock.advance(5) == 2
    assert fired == ["after"]
    assert [str(error) for error in errors] == ["boom"]


@pytest.mark.sandbox_errors
def test_a_tenants_failed_scheduled_work_is_one_of_its_incidents(tenant) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    tenant.clock.call_later(1, broken)
    tenant.clock.advance(2)
    [incident] = tenant.store.incidents.newest(10)
    assert incident["kind"] == "scheduled_work_failed" and incident["error"] == "RuntimeError: boom"


def test_a_compressed_clock_left_running_stops_at_the_end_of_its_span() -> None:
    wall = Wall()
    clock = TenantClock(LATEST - timedelta(days=1), mode="realtime", rate=1_000_000, wall=wall)
    wall.at += 10 * 365 * 86400
    assert clock.now() == LATEST
    assert clock.run_due() == 0


def test_a_clock_outside_its_span_is_refused() -> None:
    with pytest.raises(ValueError):
        TenantClock(datetime(9999, 12, 31, 23, 59, tzinfo=UTC), mode="frozen", wall=Wall())
    clock = TenantClock(LATEST - timedelta(seconds=1), mode="frozen", wall=Wall())
    with pytest.raises(ValueError):
        clock.advance(2)
    assert clock.now() == LATEST - timedelta(seconds=1)


def test_advancing_a_running_clock_to_a_moment_it_has_passed_is_a_no_op() -> None:
    wall = Wall()
    clock = TenantClock(START, mode="realtime", wall=wall)
    wall.at += 5
    assert clock.advance(to=START + timedelta(seconds=1)) == 0
    assert clock.now() == START + timedelta(seconds=5)
