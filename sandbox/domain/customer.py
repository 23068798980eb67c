"""The people on the other side: simulated WhatsApp users and how they behave."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import urlsplit

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
        if code.isascii() and code.isdigit() and int(code) in GraphErrorCode._value2member_map_:
            return {"fail_code": int(code)}
    return {}


# Media links on this host (or a subdomain) cannot be downloaded: the send is accepted and fails with 131053.
# A first path segment that is an HTTP error status picks the status Meta's fetch got (default 404).
MAGIC_MEDIA_HOST = "fail.sandbox.test"


def undownloadable_media(content: Any) -> tuple[GraphErrorCode, str] | None:
    """131053 with Meta's observed details when any `link` in a message's content is on `MAGIC_MEDIA_HOST`."""
    for link in _links(content):
        try:
            parts = urlsplit(link)
            host = (parts.hostname or "").lower()
        except ValueError:  # not a URL anyone could fetch, so not the magic host either
            continue
        if host != MAGIC_MEDIA_HOST and not host.endswith("." + MAGIC_MEDIA_HOST):
            continue
        first = parts.path.strip("/").split("/")[0]
        status = int(first) if first.isascii() and first.isdigit() and 400 <= int(first) <= 599 else 404
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        return (
            GraphErrorCode.MEDIA_UPLOAD_ERROR,
            f"Downloading media from weblink failed with http code {status}, status message {phrase}",
        )
    return None


def _links(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["link"]] if isinstance(value.get("link"), str) else []
        for key, item in value.items():
            if key != "link":
                found.extend(_links(item))
        return found
    if isinstance(value, list):
        return [link for item in value for link in _links(item)]
    return []


def magic_table() -> list[dict[str, Any]]:
    """Every magic value in one table: recipients (`wa_id`) and media links (`link`), each with its behaviour."""
    rows: list[dict[str, Any]] = [
        {"kind": "recipient", "wa_id": wa_id, "behaviour": text, "customer": fields}
        for wa_id, (text, fields) in MAGIC_RECIPIENTS.items()
    ]
    rows.append(
        {
            "kind": "recipient",
            "wa_id": f"{MAGIC_FAIL_PREFIX}<code>",
            "behaviour": "every message fails asynchronously with that Graph error code, e.g. 1555099131049 → 131049",
            "customer": {"fail_code": "<code>"},
        }
    )
    rows.append(
        {
            "kind": "media_link",
            "link": f"https://{MAGIC_MEDIA_HOST}/<anything>",
            "behaviour": "the media cannot be downloaded: the send is accepted, then fails with 131053 "
            '("Downloading media from weblink failed with http code 404, status message Not Found")',
            "error": {"code": int(GraphErrorCode.MEDIA_UPLOAD_ERROR), "mode": "async"},
        }
    )
    rows.append(
        {
            "kind": "media_link",
            "link": f"https://{MAGIC_MEDIA_HOST}/<status>/<anything>",
            "behaviour": "as above, with that HTTP status of the failed download, e.g. /403/logo.png → "
            '"...failed with http code 403, status message Forbidden"',
            "error": {"code": int(GraphErrorCode.MEDIA_UPLOAD_ERROR), "mode": "async"},
        }
    )
    return rows
