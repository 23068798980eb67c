"""What each dashboard page shows, read from the documents the control plane answers with (no second model)."""

from __future__ import annotations

import json
import shlex
from datetime import datetime
from typing import Any

from sandbox.clock import to_rfc3339
from sandbox.context import Sandbox, Tenant
from sandbox.control import journal
from sandbox.services import decisions, world

# One page shows at most this many of a journal; the control plane's paged routes list the rest.
PAGE = 200
THREAD = 300
TICKS = {"accepted": "🕓", "sent": "✓", "delivered": "✓✓", "read": "✓✓", "failed": "!"}
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


def overview(tenant: Tenant) -> dict[str, Any]:
    state = world.snapshot(tenant, limit=50)
    return {key: state.get(key, []) for key in ("businesses", "wabas", "phone_numbers")}


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
    }


def thread(tenant: Tenant, wa_id: str) -> list[dict[str, Any]]:
    """The customer's thread, oldest first, as the message journal (`GET .../messages?to=`) holds it."""
    messages = tenant.store.messages.newest(THREAD, lambda m: m.wa_id == wa_id)
    return [bubble(message.snapshot()) for message in reversed(messages)]


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
                "submitted_at": to_rfc3339(document["submitted_at"]) if document["submitted_at"] else "",
                "choices": sorted(reviewer.decisions) if reviewer else [],
                "reasons": sorted(reviewer.reasons) if reviewer and reviewer.reasons is not None else None,
            }
        )
    return rows


def templates(tenant: Tenant) -> list[dict[str, Any]]:
    return list(world.snapshot(tenant, limit=PAGE)["templates"])


def deliveries(sandbox: Sandbox, tenant: Tenant, filters: dict[str, str]) -> list[dict[str, Any]]:
    """The delivery log as `GET .../webhooks` pages it (field, state, wamid), each payload pretty-printed."""
    given = {key: filters.get(key) or None for key in ("field", "state", "wamid")}
    found = journal.deliveries_page(sandbox, tenant, PAGE, **given)
    for document in found:
        document["pretty"] = _pretty(document.pop("body", ""))
    return found


def requests(tenant: Tenant, filters: dict[str, str]) -> list[dict[str, Any]]:
    """The Graph request journal as `GET .../requests` pages it (status, method)."""
    return list(journal.requests_page(tenant, PAGE, filters.get("status") or None, filters.get("method") or None))


def _pretty(body: str) -> str:
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body


def rfc(value: Any) -> str:
    return to_rfc3339(value) if isinstance(value, datetime) else str(value or "")


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=rfc)
