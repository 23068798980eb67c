"""What each dashboard page shows, read from the documents the control plane answers with (no second model)."""

from __future__ import annotations

import json
import shlex
from datetime import datetime
from typing import Any

from sandbox.clock import to_rfc3339
from sandbox.context import Sandbox, Tenant
from sandbox.control import journal
from sandbox.control.parse import choices_of
from sandbox.domain.media import INBOUND_MIME_TYPES, UPLOAD_KINDS, Media
from sandbox.services import decisions, world
from sandbox.webhooks.outbox import DeliveryState

# One page shows at most this many of a journal; the control plane's paged routes list the rest.
PAGE = 200
THREAD = 300
# The overview's cards: the first this many of each kind (the state document pages the rest).
WORLD = 50
TICKS = {"accepted": "🕓", "sent": "✓", "delivered": "✓✓", "read": "✓✓", "failed": "!"}
# What the composer's file input offers: the types Graph uploads take (the inbound media route takes the same).
MEDIA_KINDS = tuple(INBOUND_MIME_TYPES)
MEDIA_ACCEPT = ",".join(UPLOAD_KINDS)
CREDENTIALS = ("access_token", "app_id", "app_secret", "verify_token", "business_id", "waba_id", "phone_number_id")


HELLO_WORLD = (
    '{"messaging_product":"whatsapp","to":"+16505551234","type":"template",'
    '"template":{"name":"hello_world","language":{"code":"en_US"}}}'
)


def curl_lines(base_url: str, document: dict[str, Any]) -> list[str]:
    """A ready `curl` sending the approved `hello_world` template from the tenant's first number (a template, so it
    is delivered outside the 24-hour window too); the banner prints it, the dashboard shows it."""
    return [
        f"curl -s {base_url}/{document['graph_version']}/{document['phone_number_id']}/messages \\",
        f"  -H 'Authorization: Bearer {document['access_token']}' -H 'Content-Type: application/json' \\",
        f"  -d {shlex.quote(HELLO_WORLD)}",
    ]


def curl(base_url: str, document: dict[str, Any]) -> str:
    return "\n".join(curl_lines(base_url, document))


def overview(tenant: Tenant, limit: int = WORLD) -> dict[str, Any]:
    """The business, WABAs, numbers and templates of the state document (`GET .../state`), each with `waiting`:
    what it waits for, read from the same document (pending reviews, the trial, the messaging limit)."""
    state = world.snapshot(tenant, limit=limit)
    now = tenant.clock.now()
    due: dict[tuple[str, str], str] = {}
    for review in state["reviews"]:
        due[(review["kind"], review["target"])] = _due(review["due_at"], now)
    for business in state["businesses"]:
        business["waiting"] = _business_waits(tenant, state, business, due)
    for waba in state["wabas"]:
        waba["waiting"] = [
            f"{label} {when}"
            for kind, label in (("waba_review", "review due"), ("waba_appeal", "appeal decided"))
            if (when := due.get((kind, waba["id"])))
        ]
        if not waba["waiting"] and waba["account_review_status"] == "PENDING":
            verified = waba.get("business_verification_status") == "verified"
            waba["waiting"] = [
                "Meta's review: none scheduled" if verified else "review starts once the business is verified"
            ]
    for phone in state["phone_numbers"]:
        phone["waiting"] = _number_waits(tenant, state, phone, due)
    for template in state["templates"]:
        when = due.get(("template", template["id"]))
        template["waiting"] = [f"review due {when}"] if when else []
    return {key: state[key] for key in ("businesses", "wabas", "phone_numbers", "templates")} | {"now": to_rfc3339(now)}


def _business_waits(tenant: Tenant, state: dict[str, Any], business: dict[str, Any], due: dict[Any, str]) -> list[str]:
    lines = []
    if when := due.get(("business_verification", business["id"])):
        lines.append(f"verification review due {when}")
    limit = state["messaging_limit"]
    if limit is not None and limit["business_id"] == business["id"]:
        size = limit["limit"]
        if size is None:  # an unlimited portfolio counts nothing
            lines.append(f"messaging limit {limit['tier']}: no limit")
        else:
            used = limit["unique_users_24h"]
            lines.append(f"messaging limit {limit['tier']}: {used} of {size} customers in the rolling 24 hours")
        if limit["upgrade_due_at"] is not None:
            lines.append(f"limit upgrade {_due(limit['upgrade_due_at'], tenant.clock.now())}")
        if when := due.get(("messaging_limit", business["id"])):
            lines.append(f"messaging-limit review due {when}")
    return lines


def _number_waits(tenant: Tenant, state: dict[str, Any], phone: dict[str, Any], due: dict[Any, str]) -> list[str]:
    lines = []
    if when := due.get(("display_name", phone["id"])):
        lines.append(f"display-name review due {when}")
    trial = state["trial"]
    if trial is not None and trial["phone_number_id"] == phone["id"] and tenant.policy.trial.enabled:
        policy, now = tenant.policy.trial, tenant.clock.now()
        left = trial["expires_at"] - now
        verified = any(b["verification_status"] == "verified" for b in state["businesses"])
        customers = policy.verified_customers if verified else policy.customers
        days = max(0, -(-int(left.total_seconds()) // 86400))
        lines.append(
            f"trial: {days} day{'s' if days != 1 else ''} left (ends {to_rfc3339(trial['expires_at'])})"
            if left.total_seconds() > 0
            else f"trial ended {to_rfc3339(trial['expires_at'])}"
        )
        lines.append(
            f"trial recipients {len(trial['recipients'])} of {policy.recipients} · "
            f"customers {len(trial['customers'])} of {customers}"
        )
    return lines


def _due(when: datetime, now: datetime) -> str:
    """`at <time> (in 2 d 3 h)` on the tenant clock."""
    return f"at {to_rfc3339(when)} ({until(when, now)})"


def until(when: datetime, now: datetime) -> str:
    """How far `when` is from `now`: `in 2 d 3 h`, `in 5 h 10 min`, `in 40 s`, or `overdue`."""
    seconds = int((when - now).total_seconds())
    if seconds < 0:
        return "overdue"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [
        f"{days} d" if days else "",
        f"{hours} h" if hours else "",
        f"{minutes} min" if minutes and not days else "",
    ]
    return "in " + (" ".join(part for part in parts if part) or f"{seconds} s")


def text_of(message: dict[str, Any]) -> str:
    """What a phone shows in a bubble for `message` (a snapshot of the message journal)."""
    kind = message["type"]
    content = message.get(kind) or {}
    if not isinstance(content, dict):
        return f"[{kind}]"
    if kind == "text":
        return str(content.get("body", ""))
    if kind == "reaction":
        return f"{content.get('emoji') or '(reaction removed)'} on {content.get('message_id', '')}"
    if kind == "button":
        return f"[button] {content.get('text', '')}"
    if kind == "template":
        return f"[template] {content.get('name', '')} ({(content.get('language') or {}).get('code', '')})"
    if kind == "interactive":
        reply = content.get(content.get("type", ""), {})
        if isinstance(reply, dict) and "title" in reply:
            return f"[{content.get('type')}] {reply.get('title')}"
        body = content.get("body") or {}
        return f"[interactive {content.get('type', '')}] {body.get('text', '') if isinstance(body, dict) else ''}"
    if kind in ("image", "video", "audio", "document", "sticker"):
        return f"[{kind}] {content.get('caption') or content.get('link') or content.get('id') or ''}"
    return f"[{kind}]"


def bubble(message: dict[str, Any]) -> dict[str, Any]:
    status = message.get("status") or ""
    return {
        "id": message["id"],
        "outgoing": message["direction"] == "outbound",
        "text": text_of(message),
        "type": message["type"],
        "status": status,
        "ticks": TICKS.get(status, ""),
        "at": to_rfc3339(message["created_at"]),
        "errors": message.get("errors") or [],
        "history": [{"status": h["status"], "at": to_rfc3339(h["timestamp"])} for h in message["history"]],
        "media": _media_of(message),
    }


def _media_of(message: dict[str, Any]) -> dict[str, Any] | None:
    content = message.get(message["type"])
    if message["type"] not in MEDIA_KINDS or not isinstance(content, dict) or not content.get("id"):
        return None
    return {"id": str(content["id"]), "kind": message["type"], "mime_type": content.get("mime_type", "")}


def thread(tenant: Tenant, wa_id: str) -> list[dict[str, Any]]:
    """The customer's thread, oldest first, as the message journal (`GET .../messages?to=`) holds it; a media
    message links its file when the tenant holds it (an image shows)."""
    messages = tenant.store.messages.newest(THREAD, lambda m: m.wa_id == wa_id)
    bubbles = [bubble(message.snapshot()) for message in reversed(messages)]
    for shown in bubbles:
        media = shown.get("media")
        if media:
            kept = stored_media(tenant, media["id"])
            media["kept"] = kept is not None
            media["image"] = kept is not None and kept.mime_type.startswith("image/")
    return bubbles


def stored_media(tenant: Tenant, media_id: str) -> Media | None:
    """A media object the tenant still holds with its bytes (the business's `GET /{media-id}` finds it too)."""
    found = tenant.store.media.get(media_id)
    if found is None or found.data is None or found.expired(tenant.clock.now()):
        return None
    return found


def chats(tenant: Tenant) -> list[dict[str, Any]]:
    """One row per customer with messages in the journal, most recent first, with its window."""
    state = world.snapshot(tenant, limit=PAGE)
    windows = {w["wa_id"]: w for w in state["windows"]}
    latest: dict[str, dict[str, Any]] = {}
    for message in tenant.store.messages.newest(PAGE * 10, lambda m: True):
        latest.setdefault(message.wa_id, bubble(message.snapshot()))
    return [{"wa_id": wa_id, "last": last, "window": windows.get(wa_id)} for wa_id, last in latest.items()]


def reviews(tenant: Tenant) -> list[dict[str, Any]]:
    """Pending reviews with the decisions (and bounded reasons) each kind may end with, as the reviews route takes."""
    kinds = decisions.reviewers()
    rows = []
    for pending in decisions.pending_decisions(tenant):
        document = pending.document()
        reviewer = kinds.get(document["kind"])
        rows.append(
            document
            | {
                "due_at": to_rfc3339(document["due_at"]),
                "due_in": until(document["due_at"], tenant.clock.now()),
                "submitted_at": to_rfc3339(document["submitted_at"]) if document["submitted_at"] else "",
                "choices": sorted(reviewer.decisions) if reviewer else [],
                "reasons": sorted(reviewer.reasons) if reviewer and reviewer.reasons is not None else None,
            }
        )
    return rows


# Every filter the journal routes read (`journal.delivery_filters`, `journal.request_filters`), as the pages' inputs.
DELIVERY_FILTERS = ("field", "state", "since", "until", "wamid", "to", "phone_number_id", "chaos", "payload")
DELIVERY_STATES = choices_of(DeliveryState)
REQUEST_FILTERS = ("status", "method")


def deliveries(sandbox: Sandbox, tenant: Tenant, filters: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """The delivery log as `GET .../webhooks` pages it, each payload pretty-printed."""
    found = journal.deliveries_page(sandbox, tenant, limit, **filters)
    for document in found:
        document["pretty"] = _pretty(document.pop("body", "")) if "body" in document else ""
    return found


def requests(tenant: Tenant, filters: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """The Graph request journal as `GET .../requests` pages it."""
    return list(journal.requests_page(tenant, limit, **filters))


def _pretty(body: str) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def rfc(value: Any) -> str:
    return to_rfc3339(value) if isinstance(value, datetime) else str(value or "")


def brief(value: dict[str, Any], *leave_out: str) -> str:
    """`value` as one line of JSON without its empty fields (null, false) and the `leave_out` ones."""
    kept = {key: item for key, item in value.items() if item not in (None, False) and key not in leave_out}
    return json.dumps(kept, ensure_ascii=False, default=rfc)


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=rfc)
