"""The tenant policy: knobs declared once, grouped per lifecycle, patched all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from sandbox.domain.errors import Invalid
from sandbox.domain.knobs import (
    Choice,
    Flag,
    Integer,
    Knob,
    Levels,
    Number,
    NumberList,
    Span,
    choice,
    integer,
    number,
)
from sandbox.domain.policy import Entry, Overflow, Policy, Progression, catalogue

ENTRIES = [entry for knobs in catalogue(Policy).entries.values() for entry in knobs.values()]


def test_every_knob_is_declared_with_a_description() -> None:
    assert len(ENTRIES) == 119
    for entry in ENTRIES:
        assert entry.knob.description, entry.name
        entry.knob.check(entry.name, entry.default, entry.default)


def test_choices_come_from_the_literal() -> None:
    knobs = catalogue(Policy).entries
    for entry, options in ((knobs["messages"]["progression"], Progression), (knobs["webhooks"]["overflow"], Overflow)):
        assert isinstance(entry.knob, Choice) and entry.knob.choices == get_args(options)


def test_flat_names_are_the_old_knob_names() -> None:
    flat = catalogue(Policy).flat
    assert flat["webhook_retry_seconds"].group == "webhooks" and flat["webhook_retry_seconds"].name == "retry_seconds"
    assert flat["journal_messages"].name == "messages" and flat["progression"].group == "messages"
    assert set(Policy().flat_snapshot()) == set(flat)


def test_reads_are_plain_attributes_and_old_ones_are_gone() -> None:
    policy = Policy()
    assert policy.messages.sent_delay == [0.05, 0.3] and policy.webhooks.queue_limit == 10_000
    with pytest.raises(AttributeError):
        policy.progression = "manual"  # type: ignore[attr-defined]


def test_patch_returns_invalid_naming_knob_bounds_and_value() -> None:
    with pytest.raises(Invalid, match=r"webhooks\.timeout_seconds .*0 to 600.*got 601"):
        Policy().patch({"webhooks": {"timeout_seconds": 601}})


def test_levels_merge_and_defaults_are_not_shared() -> None:
    first, second = Policy(), Policy()
    first.patch({"limits": {"throughput_mps": {"HIGH": 7}}})
    assert first.limits.throughput_mps == {"STANDARD": 80, "HIGH": 7, "COEXISTENCE": 20}
    assert second.limits.throughput_mps["HIGH"] == 1000


# -- a group for a lifecycle that has none yet: one dataclass, one field ------------------------------------------

Outcome = Literal["APPROVED", "REJECTED"]


@dataclass(slots=True)
class Reviews:
    """Template reviews: how long they take and how they end."""

    latency_seconds: float = number(60.0, low=0, high=86_400, unit="seconds", description="time to a decision")
    outcome: Outcome = choice(Outcome, "APPROVED", description="the decision", alias="review_outcome")
    reviewers: int = integer(1, low=1, high=10, description="how many look at it")


@dataclass(slots=True)
class ExtendedPolicy(Policy):
    reviews: Reviews = field(default_factory=Reviews)


def test_a_new_group_is_one_dataclass_and_one_field() -> None:
    policy = ExtendedPolicy()
    assert policy.snapshot()["reviews"] == {"latency_seconds": 60.0, "outcome": "APPROVED", "reviewers": 1}
    policy.patch({"reviews": {"latency_seconds": 5}, "review_outcome": "REJECTED", "progression": "manual"})
    assert (policy.reviews.latency_seconds, policy.reviews.outcome, policy.messages.progression) == (
        5.0,
        "REJECTED",
        "manual",
    )
    with pytest.raises(Invalid, match=r"reviews\.reviewers .*1 to 10"):
        policy.patch({"reviews": {"reviewers": 11}, "read_probability": 0})
    assert policy.messages.read_probability == 1.0
    described = {(knob["group"], knob["name"]) for knob in ExtendedPolicy.describe()}
    assert {("reviews", "latency_seconds"), ("reviews", "outcome"), ("messages", "progression")} <= described
    assert policy.flat_snapshot()["review_outcome"] == "REJECTED"


def test_a_name_declared_twice_is_refused() -> None:
    @dataclass(slots=True)
    class Clash:
        """Declares `progression` again."""

        progression: int = integer(1, low=1, high=2, description="again")

    @dataclass(slots=True)
    class Clashing(Policy):
        clash: Clash = field(default_factory=Clash)

    with pytest.raises(TypeError, match="progression"):
        catalogue(Clashing)


# -- all or nothing, within bounds --------------------------------------------------------------------------------

JUNK = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.integers(-5, 5), st.lists(st.integers(-1, 3)))


def _values(knob: Knob) -> st.SearchStrategy[Any]:
    """Values around and outside a knob's bounds, of the right and of the wrong kind."""
    if isinstance(knob, Number | Span | NumberList):
        numbers = st.one_of(
            st.floats(knob.low, knob.high, exclude_max=getattr(knob, "high_exclusive", False)),
            st.floats(knob.low - 1, knob.high + 1, allow_nan=False),
            st.sampled_from([knob.low, knob.high]),
            st.integers(int(knob.low) - 1, int(knob.high) + 1),
        )
        if isinstance(knob, Number):
            return st.one_of(numbers, JUNK)
        if isinstance(knob, Span):
            inside = st.lists(st.floats(knob.low, knob.high), min_size=2, max_size=2).map(sorted)
            return st.one_of(inside, st.lists(numbers, min_size=2, max_size=2).map(sorted), st.lists(numbers), JUNK)
        inside = st.lists(st.floats(knob.low, knob.high), min_size=1, max_size=knob.max_items)
        return st.one_of(inside, st.lists(numbers, max_size=knob.max_items + 1), JUNK)
    if isinstance(knob, Integer):
        inside = st.integers(knob.low, knob.high)
        return st.one_of(inside, st.integers(knob.low - 1, knob.high + 1), st.sampled_from([knob.low, knob.high]), JUNK)
    if isinstance(knob, Flag):
        return st.one_of(st.booleans(), st.booleans(), JUNK)
    if isinstance(knob, Choice):
        return st.one_of(st.sampled_from(knob.choices), st.sampled_from(knob.choices), JUNK)
    assert isinstance(knob, Levels)
    inside = st.dictionaries(st.sampled_from(knob.levels), st.integers(knob.low, knob.high))
    mapping = st.dictionaries(
        st.one_of(st.sampled_from(knob.levels), st.text(max_size=2)), st.integers(knob.low - 1, knob.high + 1)
    )
    return st.one_of(inside, mapping, JUNK)


CHANGES = st.lists(
    st.tuples(st.sampled_from(ENTRIES), st.booleans()).flatmap(
        lambda pick: _values(pick[0].knob).map(lambda value: (*pick, value))
    ),
    max_size=4,
)


def _within(knob: Knob, value: Any) -> bool:
    if isinstance(knob, Number):
        return knob.low <= value < knob.high if knob.high_exclusive else knob.low <= value <= knob.high
    if isinstance(knob, Integer):
        return knob.low <= value <= knob.high
    if isinstance(knob, Span):
        return knob.low <= value[0] <= value[1] <= knob.high
    if isinstance(knob, NumberList):
        return 1 <= len(value) <= knob.max_items and all(knob.low <= item <= knob.high for item in value)
    if isinstance(knob, Levels):
        return set(value) == set(knob.levels) and all(knob.low <= item <= knob.high for item in value.values())
    if isinstance(knob, Choice):
        return value in knob.choices
    return isinstance(value, bool)


@given(CHANGES, st.integers(0, 9).map(lambda n: n == 0))
def test_random_patches_apply_wholly_or_not_at_all(changes: list[tuple[Entry, bool, Any]], junk_key: bool) -> None:
    policy = Policy()
    body: dict[str, Any] = {"no_such_knob": 1} if junk_key else {}
    for entry, grouped, value in changes:
        if grouped:
            body.setdefault(entry.group, {})[entry.name] = value
        else:
            body[entry.flat_name] = value
    before = policy.snapshot()
    try:
        policy.patch(body)
    except Invalid:
        assert policy.snapshot() == before
    else:
        event("applied")
        expected = {(entry.group, entry.name): before[entry.group][entry.name] for entry in ENTRIES}
        for entry, _, value in changes:
            expected[entry.group, entry.name] = (
                {**before[entry.group][entry.name], **value} if isinstance(value, dict) else value
            )
        after = policy.snapshot()
        assert {(entry.group, entry.name): after[entry.group][entry.name] for entry in ENTRIES} == expected
    for entry in ENTRIES:
        assert _within(entry.knob, policy.snapshot()[entry.group][entry.name]), entry.name
