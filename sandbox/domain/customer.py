"""The people on the other side: simulated WhatsApp users and how they behave."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from sandbox.errors import GraphErrorCode

Delivery = Literal["normal", "slow", "never"]
Reads = Literal["always", "never", "instant"]


@dataclass(slots=True)
class Customer:
    """A WhatsApp user: whether messages reach them, whether they read them, and how they answer."""

    wa_id: str
    profile_name: str
    user_id: str
    on_whatsapp: bool = True
    delivery: Delivery = "normal"
    reads: Reads = "always"
    blocked_business: bool = False
    fail_code: int | None = None

    def failure(self) -> GraphErrorCode | None:
        """The asynchronous failure every message to this customer ends in, if any."""
        if not self.on_whatsapp or self.blocked_business:
            return GraphErrorCode.MESSAGE_UNDELIVERABLE
        if self.fail_code is not None:
            return GraphErrorCode(self.fail_code)
        return None

    def snapshot(self) -> dict[str, Any]:
        return asdict(self)


# Numbers in the fictional 555-01xx range; each pins one behaviour (control plane `GET /_sandbox/magic`).
MAGIC_RECIPIENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "15550100001": ("not on WhatsApp: every message fails with 131026", {"on_whatsapp": False}),
    "15550100002": ("never reads: messages stop at delivered", {"reads": "never"}),
    "15550100003": ("has blocked the business: every message fails with 131026", {"blocked_business": True}),
    "15550100004": ("slow delivery: delivered after the policy's slow_delivery_seconds", {"delivery": "slow"}),
    "15550100005": ("phone offline: messages stay sent, never delivered", {"delivery": "never"}),
    "15550100006": ("reads at once: read without a separate delivered status", {"reads": "instant"}),
}
# `1555099` + a Graph error code: every message fails asynchronously with that code (e.g. 1555099131049).
MAGIC_FAIL_PREFIX = "1555099"


def magic_behaviour(wa_id: str) -> dict[str, Any]:
    if wa_id in MAGIC_RECIPIENTS:
        return dict(MAGIC_RECIPIENTS[wa_id][1])
    if wa_id.startswith(MAGIC_FAIL_PREFIX):
        code = wa_id.removeprefix(MAGIC_FAIL_PREFIX)
        if code.isdigit() and int(code) in GraphErrorCode._value2member_map_:
            return {"fail_code": int(code)}
    return {}


def magic_table() -> list[dict[str, Any]]:
    rows = [{"wa_id": wa_id, "behaviour": text, "customer": fields} for wa_id, (text, fields) in MAGIC_RECIPIENTS.items()]
    rows.append({
        "wa_id": f"{MAGIC_FAIL_PREFIX}<code>",
        "behaviour": "every message fails asynchronously with that Graph error code, e.g. 1555099131049 → 131049",
        "customer": {"fail_code": "<code>"},
    })
    return rows
