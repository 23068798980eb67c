"""A business number's blocklist (`/{phone-number-id}/block_users`, docs/reference/meta-messaging.md §8.3).

Meta's rules (META-BLOCK): only users who messaged the business in the last 24 hours can be blocked, never another
business; at most 1,000 users per request and 64,000 on a list; a blocked user cannot write to the business and the
business cannot message them. Results are per user, so one call can block some users and fail others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

BLOCK_USERS_MAX = 1_000
BLOCKLIST_MAX = 64_000


@dataclass(slots=True, frozen=True)
class BlockUser:
    """One entry of a block or unblock request: a phone number or wa_id (`user`) or a BSUID (`user_id`)."""

    input: str
    by_user_id: bool = False


@dataclass(slots=True, frozen=True)
class BlockedUser:
    wa_id: str
    user_id: str | None
    blocked_at: datetime


@dataclass(slots=True)
class Blocklist:
    """The users one number has blocked, oldest block first.

    `version` moves on every change: a page cursor carries the version it was cut from, and a cursor from an older
    version is Meta's 139102 (the list changed while it was being paged) rather than a page that skips or repeats.
    """

    users: dict[str, BlockedUser] = field(default_factory=dict)
    version: int = 0

    def __contains__(self, wa_id: object) -> bool:
        return wa_id in self.users

    def __len__(self) -> int:
        return len(self.users)

    def room_for(self, wa_ids: list[str]) -> bool:
        return len(self.users) + len({wa_id for wa_id in wa_ids if wa_id not in self.users}) <= BLOCKLIST_MAX

    def block(self, wa_id: str, user_id: str | None, now: datetime) -> None:
        if wa_id not in self.users:
            self.users[wa_id] = BlockedUser(wa_id, user_id, now)
            self.version += 1

    def unblock(self, wa_id: str) -> None:
        if self.users.pop(wa_id, None) is not None:
            self.version += 1
