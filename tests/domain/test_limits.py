from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sandbox.domain.limits import HOUR, SECOND, RateLimits, SlidingWindow, TokenBucket, usage

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def offer(window: SlidingWindow, moment: datetime, limit: int) -> bool:
    if window.allows(moment, limit):
        window.record(moment)
        return True
    return False


def test_sliding_second_admits_the_limit_then_frees_each_slot_one_second_later() -> None:
    window = SlidingWindow(SECOND)
    assert all(offer(window, at(i / 1000), 80) for i in range(80))
    assert not offer(window, at(0.5), 80)
    assert window.free_at(at(0.5), 80) == at(1.0)
    assert not offer(window, at(0.999), 80)
    assert offer(window, at(1.0), 80)  # the first event, at t=0, stops counting at exactly t=1
    assert not offer(window, at(1.0), 80)


def test_steady_100_per_second_for_10_seconds_on_80_mps_accepts_800() -> None:
    window = SlidingWindow(SECOND)
    accepted = sum(offer(window, at(i * 0.01), 80) for i in range(1000))
    assert accepted == 800


@given(
    limit=st.integers(min_value=1, max_value=50),
    gaps=st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=300),
)
def test_no_sliding_second_ever_holds_more_than_the_limit(limit: int, gaps: list[int]) -> None:
    window = SlidingWindow(SECOND)
    accepted: list[datetime] = []
    moment = T0
    for gap in gaps:
        moment += timedelta(milliseconds=gap)
        if offer(window, moment, limit):
            accepted.append(moment)
    for start in accepted:
        assert sum(1 for t in accepted if start <= t < start + SECOND) <= limit


def test_record_with_a_limit_does_not_store_events_beyond_it() -> None:
    window = SlidingWindow(SECOND)
    for _ in range(500):
        window.record(T0, 20)
    assert window.count(T0) == 20
    assert window.count(at(1)) == 0


def test_pair_bucket_allows_a_burst_of_45_then_one_every_6_seconds() -> None:
    bucket = TokenBucket.full(45, 6.0, T0)
    for _ in range(45):
        assert bucket.allows(T0)
        bucket.take(T0)
    assert not bucket.allows(T0)
    assert bucket.free_at(T0) == at(6)
    assert not bucket.allows(at(5.999))
    assert bucket.allows(at(6))
    bucket.take(at(6))
    assert not bucket.allows(at(6))
    assert bucket.allows(at(12))


def test_pair_bucket_refills_to_its_capacity_and_no_further() -> None:
    bucket = TokenBucket.full(45, 6.0, T0)
    bucket.take(T0)
    assert bucket.is_full(at(6))
    assert bucket.tokens == 45


@given(steps=st.lists(st.tuples(st.integers(min_value=0, max_value=20_000), st.booleans()), max_size=200))
def test_pair_bucket_never_admits_more_than_burst_plus_refills(steps: list[tuple[int, bool]]) -> None:
    bucket = TokenBucket.full(45, 6.0, T0)
    moment, taken = T0, 0
    for gap_ms, send in steps:
        moment += timedelta(milliseconds=gap_ms)
        if send and bucket.allows(moment):
            bucket.take(moment)
            taken += 1
    elapsed = (moment - T0).total_seconds()
    assert taken <= 45 + elapsed / 6.0 + 1e-6


def test_usage_reports_percent_and_minutes_to_regain() -> None:
    window = SlidingWindow(HOUR)
    for minute in range(4):
        window.record(at(minute * 60))
    counted = usage(window, 4, at(300))
    assert (counted.calls, counted.percent) == (4, 100)
    assert counted.regain_at == at(3600)
    assert counted.minutes_to_regain(at(300)) == 55
    assert usage(window, 8, at(300)).percent == 50
    assert usage(window, 8, at(300)).minutes_to_regain(at(300)) == 0


def test_maintenance_ends_at_its_time() -> None:
    limits = RateLimits()
    limits.maintenance_until["p1"] = at(60)
    assert limits.in_maintenance("p1", at(59))
    assert not limits.in_maintenance("p1", at(60))
    assert "p1" not in limits.maintenance_until


def test_pair_buckets_are_per_number_and_recipient() -> None:
    limits = RateLimits()
    first = limits.pair_bucket("p1", "16505550001", 45, 6.0, T0)
    assert limits.pair_bucket("p1", "16505550001", 45, 6.0, T0) is first
    assert limits.pair_bucket("p1", "16505550002", 45, 6.0, T0) is not first
    assert limits.pair_bucket("p2", "16505550001", 45, 6.0, T0) is not first
