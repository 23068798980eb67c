"""The number quality rule (sandbox/domain/quality.py): thresholds, min_sample, the day buckets of the moving
window and their expiry, and which era's rules apply."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.domain.quality import CURRENT_RULE_START, NumberQuality, Reaction, legacy, rating_for, trigger_for

KNOBS = {"yellow": 0.02, "red": 0.05, "min_sample": 20}
DAY0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("negative", "sent", "current", "expected"),
    [
        (0, 0, "RED", "GREEN"),  # no negative feedback: GREEN whatever the sample
        (0, 5, "YELLOW", "GREEN"),
        (1, 100, "UNKNOWN", "GREEN"),  # 1 % is under YELLOW
        (2, 100, "GREEN", "YELLOW"),  # exactly 2 %
        (4, 100, "GREEN", "YELLOW"),
        (5, 100, "GREEN", "RED"),  # exactly 5 %
        (50, 100, "YELLOW", "RED"),
        (1, 19, "GREEN", "GREEN"),  # below min_sample: kept as it is
        (1, 19, "RED", "RED"),
        (1, 20, "GREEN", "RED"),  # 5 % at min_sample
    ],
)
def test_the_rate_against_the_thresholds(negative: int, sent: int, current: str, expected: str) -> None:
    assert rating_for(negative, sent, current=current, **KNOBS) == expected  # type: ignore[arg-type]


def test_red_is_checked_before_yellow() -> None:
    assert rating_for(3, 100, yellow=0.03, red=0.03, min_sample=1, current="GREEN") == "RED"


def quality() -> NumberQuality:
    return NumberQuality(deque(maxlen=3))


def test_sends_and_negative_reactions_fall_into_day_buckets_with_running_totals() -> None:
    rated = quality()
    rated.count_sent(DAY0)
    rated.count_sent(DAY0 + timedelta(hours=1))
    rated.react(Reaction("report", "15550001", DAY0 + timedelta(hours=2)))
    rated.count_sent(DAY0 + timedelta(hours=25))
    rated.react(Reaction("block", "15550002", DAY0 + timedelta(hours=26)))
    rated.react(Reaction("read", "15550003", DAY0 + timedelta(hours=26)))
    rated.count_sent(DAY0 + timedelta(hours=49))
    assert (rated.sent, rated.negative) == (4, 2)
    assert [bucket[1:] for bucket in rated.buckets] == [[2, 1], [1, 1], [1, 0]]


def test_buckets_leave_the_window_a_day_at_a_time() -> None:
    rated = quality()
    rated.count_sent(DAY0)
    rated.react(Reaction("report", "15550001", DAY0))
    rated.count_sent(DAY0 + timedelta(days=2))
    rated.expire(DAY0 + timedelta(days=6), 7)
    assert (rated.sent, rated.negative) == (2, 1)
    rated.expire(DAY0 + timedelta(days=7), 7)
    assert (rated.sent, rated.negative) == (1, 0)
    rated.expire(DAY0 + timedelta(days=30), 7)
    assert (rated.sent, rated.negative, len(rated.buckets)) == (0, 0, 0)


def test_the_next_expiry_is_when_the_oldest_negative_feedback_leaves() -> None:
    rated = quality()
    rated.count_sent(DAY0)
    assert rated.next_expiry(7) is None  # sends alone never change a rating on expiry
    rated.react(Reaction("block", "15550001", DAY0 + timedelta(days=1)))
    midnight = datetime(DAY0.year, DAY0.month, DAY0.day, tzinfo=UTC)
    assert rated.next_expiry(7) == midnight + timedelta(days=8)


def test_reads_are_kept_but_not_counted_and_only_the_newest_reactions_are_kept() -> None:
    rated = quality()
    for n in range(5):
        rated.react(Reaction("read", f"1555000{n}", DAY0))
    assert rated.negative == 0
    assert [r.wa_id for r in rated.reactions] == ["15550002", "15550003", "15550004"]
    assert [r["wa_id"] for r in rated.document(DAY0)["reactions"]] == ["15550004", "15550003", "15550002"]


def test_the_document_reports_the_rate_of_the_window() -> None:
    rated = quality()
    assert rated.document(DAY0)["rate"] is None
    for _ in range(4):
        rated.count_sent(DAY0)
    rated.react(Reaction("report", "15550001", DAY0, "wamid.1", ("hello_world", "en_US", "77")))
    document = rated.document(DAY0)
    assert (document["business_initiated"], document["negative"], document["rate"]) == (4, 1, 0.25)
    assert document["reactions"][0]["template"] == {"name": "hello_world", "language": "en_US", "id": "77"}


def test_the_era_by_date_or_forced() -> None:
    before = CURRENT_RULE_START - timedelta(seconds=1)
    assert legacy("auto", before) and not legacy("auto", CURRENT_RULE_START)
    assert legacy("legacy", CURRENT_RULE_START + timedelta(days=400))
    assert not legacy("current", before)


def test_every_rating_has_its_trigger() -> None:
    assert trigger_for("RED") == "rate_red"
    assert trigger_for("UNKNOWN") == "rate_unknown"
