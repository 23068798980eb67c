"""The shared message machine (sandbox/domain/message.py) as a Hypothesis state machine.

Legal triggers move a message one step forward, illegal ones raise `InvalidTransition` and change nothing, a
message never moves backwards, terminal states are final, and `history` and the emitted events agree.
"""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, precondition, rule

from sandbox.domain.events import MessageStatusChanged
from sandbox.domain.lifecycle import InvalidTransition
from sandbox.domain.message import (
    MESSAGE_TRANSITIONS,
    Message,
    MessageStatus,
    advance,
    fail,
    message_triggers,
    received,
)
from sandbox.errors import GraphErrorCode

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TRIGGERS = ("send", "deliver", "read", "fail")
# The model: where each trigger may go from each status. Derived by hand from META-STATUS, not from the table.
LEGAL: dict[tuple[str, str], str] = {
    ("accepted", "send"): "sent",
    ("accepted", "fail"): "failed",
    ("sent", "deliver"): "delivered",
    ("sent", "read"): "read",
    ("sent", "fail"): "failed",
    ("delivered", "read"): "read",
    ("received", "read"): "read",
}
RANK = {"accepted": 0, "received": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 3}
TERMINAL = {"read", "failed"}


def new_message(direction: str, number: int) -> Message:
    message = Message(
        wamid=f"wamid.test{number}",
        direction=direction,  # type: ignore[arg-type]
        phone_number_id="106540352242922",
        wa_id="16505551234",
        type="text",
        content={"body": "hi"},
        created_at=START,
    )
    if direction == "inbound":
        return received(message, START)
    message.history.append((message.status, START))
    return message


def state(message: Message) -> tuple[object, ...]:
    return (message.status, list(message.history), message.failure, len(message.pending_events))


class MessageLifecycle(RuleBasedStateMachine):
    messages = Bundle("messages")

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.count = 0
        self.tracked: list[Message] = []
        self.events: dict[str, list[MessageStatusChanged]] = {}

    @rule(target=messages, direction=st.sampled_from(["outbound", "inbound"]))
    def create(self, direction: str) -> Message:
        self.count += 1
        message = new_message(direction, self.count)
        self.tracked.append(message)
        self.events[message.wamid] = []
        return message

    @rule(seconds=st.integers(min_value=0, max_value=86_400))
    def tick(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @rule(message=messages, trigger=st.sampled_from(TRIGGERS), code=st.sampled_from(list(GraphErrorCode)))
    def fire(self, message: Message, trigger: str, code: GraphErrorCode) -> None:
        before_status = message.status
        before = copy.deepcopy(state(message))
        expected = LEGAL.get((before_status, trigger))
        assert (trigger in message_triggers(before_status)) == (expected is not None)
        try:
            if trigger == "fail":
                fail(message, code, None, self.now)
            else:
                advance(message, trigger, self.now)
        except InvalidTransition as error:
            assert expected is None, f"{trigger} from {before_status} should be legal"
            assert error.trigger == trigger and error.status == before_status
            assert state(message) == before, "an illegal trigger changed the message"
            return
        assert expected is not None, f"{trigger} from {before_status} should be illegal"
        assert message.status == expected
        assert RANK[message.status] > RANK[before_status], "moved backwards or sideways"
        assert message.history[-1] == (expected, self.now)
        assert len(message.history) == len(before[1]) + 1
        if trigger == "fail":
            assert message.failure == (code, code.description)
        self.events[message.wamid].extend(message.drain_events())  # type: ignore[arg-type]

    @rule(message=consumes(messages))
    def forget(self, message: Message) -> None:
        """Stop firing at a message (keeps the bundle small), but keep checking its invariants."""

    @precondition(lambda self: self.tracked)
    @rule(trigger=st.text(max_size=8))
    def unknown_trigger(self, trigger: str) -> None:
        message = self.tracked[-1]
        if trigger in TRIGGERS:
            return
        before = copy.deepcopy(state(message))
        with pytest.raises(InvalidTransition):
            advance(message, trigger, self.now)
        assert state(message) == before

    @invariant()
    def history_is_a_forward_walk(self) -> None:
        for message in self.tracked:
            statuses = [status for status, _ in message.history]
            assert statuses[0] == ("received" if message.direction == "inbound" else "accepted")
            assert statuses[-1] == message.status
            for earlier, later in itertools.pairwise(statuses):
                assert LEGAL.get((earlier, _trigger(earlier, later))) == later
            times = [at for _, at in message.history]
            assert times == sorted(times)

    @invariant()
    def events_match_history(self) -> None:
        for message in self.tracked:
            emitted = self.events[message.wamid] + list(message.pending_events)  # type: ignore[misc]
            if message.direction == "inbound":
                assert emitted == []
                continue
            assert [(e.status, e.at) for e in emitted] == message.history[1:]
            assert all(e.message is message for e in emitted)

    @invariant()
    def terminal_states_are_final(self) -> None:
        for message in self.tracked:
            assert message.is_terminal == (message.status in TERMINAL)
            if message.is_terminal:
                assert message_triggers(message.status) == []

    @invariant()
    def failure_only_when_failed(self) -> None:
        for message in self.tracked:
            assert (message.failure is not None) == (message.status == MessageStatus.FAILED)


def _trigger(source: str, dest: str) -> str:
    return next(t for (s, t), d in LEGAL.items() if s == source and d == dest)


TestMessageLifecycle = MessageLifecycle.TestCase


def test_transition_table_matches_the_model() -> None:
    table = {
        (str(source), transition["trigger"]): str(transition["dest"])
        for transition in MESSAGE_TRANSITIONS
        for source in (transition["source"] if isinstance(transition["source"], list) else [transition["source"]])
    }
    assert table == LEGAL


@pytest.mark.parametrize("status", ["read", "failed"])
def test_terminal_status_rejects_every_trigger(status: str) -> None:
    message = new_message("outbound", 1)
    advance(message, "send", START)
    if status == "read":
        advance(message, "read", START)
    else:
        fail(message, GraphErrorCode.RE_ENGAGEMENT_MESSAGE, None, START)
    for trigger in TRIGGERS:
        with pytest.raises(InvalidTransition):
            advance(message, trigger, START)
    assert message.status == status
