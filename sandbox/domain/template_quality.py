"""A template's quality from customers' reactions to its messages, and the pauses a RED score brings (§4.8).

Meta publishes no formula (docs/fidelity-choices.md): the score is the share of blocks and reports among the
reactions of a moving window (reads raise it), once the window holds `min_reactions`. A RED score on an APPROVED
template pauses it: 3 hours the first time, 6 the second, and the third time it is DISABLED.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sandbox.domain.lifecycle import declare
from sandbox.domain.template import QualityScore

if TYPE_CHECKING:
    from sandbox.domain.policy import TemplateQuality

REACTIONS = ("block", "report", "read")
NEGATIVE = frozenset({"block", "report"})
# Each template keeps at most this many reactions: older ones fall out of the window first.
REACTIONS_KEPT = 10_000
PAUSE_TITLES = ("FIRST_PAUSE", "SECOND_PAUSE")

QUALITY_SCORE_LIFECYCLE = declare(
    "message_template.quality_score",
    "quality_score",
    QualityScore,
    [
        {
            "trigger": f"score_{state.lower()}",
            "source": [other for other in QualityScore if other is not state],
            "dest": state,
        }
        for state in QualityScore
    ],
    "A template's quality score from customers' reactions to its messages (or forced); any score may follow any other.",
)


def score_trigger(score: str) -> str:
    return f"score_{score.lower()}"


@dataclass(slots=True)
class TemplateHealth:
    """Per template: the reactions of the window, how often it was paused, and the pending end of a pause."""

    reactions: deque[tuple[datetime, str]] = field(default_factory=lambda: deque(maxlen=REACTIONS_KEPT))
    pauses: int = 0
    resume: Any = None

    def react(self, kind: str, at: datetime, policy: TemplateQuality) -> str | None:
        """Record a reaction; the score the window now gives, or None while it holds too few reactions."""
        self.reactions.append((at, kind))
        horizon = at - timedelta(hours=policy.window_hours)
        while self.reactions and self.reactions[0][0] < horizon:
            self.reactions.popleft()
        return score_of([kind for _, kind in self.reactions], policy)

    def forget(self) -> None:
        """A pause starts (or ends) a new window: the reactions that caused it do not cause the next one."""
        self.reactions.clear()


def score_of(kinds: list[str], policy: TemplateQuality) -> str | None:
    if len(kinds) < policy.min_reactions:
        return None
    share = sum(kind in NEGATIVE for kind in kinds) / len(kinds)
    if share >= policy.red_share:
        return QualityScore.RED.value
    if share >= policy.yellow_share:
        return QualityScore.YELLOW.value
    return QualityScore.GREEN.value


def pause_hours(pauses_before: int, policy: TemplateQuality) -> float | None:
    """How long the next pause lasts, or None: the third RED disables the template."""
    if pauses_before == 0:
        return policy.first_pause_hours
    if pauses_before == 1:
        return policy.second_pause_hours
    return None


def pause_info(pauses_before: int, hours: float, until: datetime) -> dict[str, str]:
    """`other_info` of the PAUSED event, in Meta's words (§4.9)."""
    why = "because of low quality" if pauses_before == 0 else "because it continued to have issues"
    when = until.strftime("%b %d at %I:%M %p UTC")
    amount = f"{hours:g} hour{'s' if hours != 1 else ''}"
    return {
        "title": PAUSE_TITLES[pauses_before],
        "description": f"Your WhatsApp message template has been paused for {amount} until {when} {why}.",
    }


UNPAUSE_INFO = {
    "title": "UNPAUSE",
    "description": "Your WhatsApp message template is no longer paused and can be sent again.",
}
