"""The unverified trial (SEED-TRIAL-1..6, meta-lifecycle.md §3.2): one number, 2 business-initiated recipients,
10 answered customers, 30 days; the business's verification raises the customers to 1,500."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Refusal(StrEnum):
    """Why the trial refuses a send; the service maps each to its Graph error."""

    OTHER_NUMBER = "other_number"
    RECIPIENTS = "recipients"
    CUSTOMERS = "customers"
    EXPIRED = "expired"


@dataclass(slots=True)
class Trial:
    """One tenant's trial: its number, its clock and the distinct people it has reached (sets: O(1) per send)."""

    phone_number_id: str
    started_at: datetime
    expires_at: datetime
    recipients: set[str] = field(default_factory=set)
    customers: set[str] = field(default_factory=set)

    def refusal(
        self,
        phone_number_id: str,
        wa_id: str,
        business_initiated: bool | None,
        now: datetime,
        *,
        recipient_limit: int,
        customer_limit: int,
    ) -> Refusal | None:
        """What stops this send, or None; nothing is counted here (`count` does it once the send is admitted).

        `business_initiated` None: a free-form message outside the customer-service window, which counts against
        neither limit (Meta fails it with 131047 anyway); only the number and the end of the trial apply.
        """
        if now >= self.expires_at:
            return Refusal.EXPIRED
        if phone_number_id != self.phone_number_id:
            return Refusal.OTHER_NUMBER
        if business_initiated is None:
            return None
        if business_initiated:
            if wa_id not in self.recipients and len(self.recipients) >= recipient_limit:
                return Refusal.RECIPIENTS
        elif wa_id not in self.customers and len(self.customers) >= customer_limit:
            return Refusal.CUSTOMERS
        return None

    def count(self, wa_id: str, business_initiated: bool) -> None:
        (self.recipients if business_initiated else self.customers).add(wa_id)

    def snapshot(self) -> dict[str, Any]:
        return {
            "phone_number_id": self.phone_number_id,
            "started_at": self.started_at,
            "expires_at": self.expires_at,
            "recipients": sorted(self.recipients),
            "customers": sorted(self.customers),
        }
