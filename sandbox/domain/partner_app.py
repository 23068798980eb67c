"""A partner app (a Solution Partner's or Tech Provider's developer app) in a tenant: its credentials, its webhook
callback and the WABAs the business granted it (embedded sign-up, meta-lifecycle.md §1.5, §5.2).

The tenant's own app is the default partner: it keeps `Tenant.credentials` and `Tenant.webhook`, and is granted
every WABA that no other partner app was granted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A tenant cannot grow its apps without limit.
MAX_PARTNER_APPS = 20


@dataclass(slots=True)
class PartnerApp:
    id: str
    name: str
    secret: str
    access_token: str
    verify_token: str
    webhook_url: str | None = None
    wabas: set[str] = field(default_factory=set)

    def granted(self, waba_id: str) -> bool:
        return waba_id in self.wabas

    def document(self) -> dict[str, Any]:
        return {
            "app_id": self.id,
            "name": self.name,
            "app_secret": self.secret,
            "access_token": self.access_token,
            "verify_token": self.verify_token,
            "webhook": {"url": self.webhook_url, "verify_token": self.verify_token},
            "wabas": sorted(self.wabas),
        }
