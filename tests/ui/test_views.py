"""What the pages say about time: how far a due time is on the tenant clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.ui.views import until

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("later", "said"),
    [
        (timedelta(seconds=40), "in 40 s"),
        (timedelta(hours=5, minutes=10, seconds=3), "in 5 h 10 min"),
        (timedelta(days=2, hours=3, minutes=59), "in 2 d 3 h"),
        (timedelta(days=30), "in 30 d"),
        (timedelta(seconds=0), "in 0 s"),
        (timedelta(seconds=-1), "overdue"),
    ],
)
def test_a_due_time_is_said_as_how_far_it_is(later: timedelta, said: str) -> None:
    assert until(NOW + later, NOW) == said
