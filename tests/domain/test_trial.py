"""The trial's rules as plain Python: order of refusals, counting once, nothing counted by a refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sandbox.domain.trial import Refusal, Trial

START = datetime(2026, 1, 1, tzinfo=UTC)


def _trial() -> Trial:
    return Trial("first", START, START + timedelta(days=30))


def _refusal(trial: Trial, phone: str, wa_id: str, business_initiated: bool, at: datetime = START) -> Refusal | None:
    return trial.refusal(phone, wa_id, business_initiated, at, recipient_limit=2, customer_limit=1)


def test_expiry_comes_first_then_the_number_then_the_counts() -> None:
    trial = _trial()
    assert _refusal(trial, "second", "1", True, START + timedelta(days=30)) is Refusal.EXPIRED
    assert _refusal(trial, "second", "1", True) is Refusal.OTHER_NUMBER
    assert _refusal(trial, "first", "1", True) is None


def test_counted_people_are_counted_once_and_refusals_count_nothing() -> None:
    trial = _trial()
    for wa_id in ["1", "2", "1"]:
        assert _refusal(trial, "first", wa_id, True) is None
        trial.count(wa_id, True)
    assert _refusal(trial, "first", "3", True) is Refusal.RECIPIENTS
    assert trial.recipients == {"1", "2"}
    trial.count("1", False)
    assert _refusal(trial, "first", "1", False) is None
    assert _refusal(trial, "first", "2", False) is Refusal.CUSTOMERS
    assert trial.customers == {"1"}
