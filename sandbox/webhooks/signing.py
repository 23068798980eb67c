"""Meta's webhook body encoding and `X-Hub-Signature-256`."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any


def meta_json(payload: Any) -> bytes:
    """Compact JSON with non-ASCII escaped as lowercase `\\uXXXX` and `/` as `\\/`, as Meta serialises webhooks.

    Clients such as whatsapp-api-js re-escape the body before checking the HMAC, so only this form satisfies
    every client (client-traffic.md §2.11).
    """
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/").encode("ascii")


def signature_256(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_sha1(app_secret: str, body: bytes) -> str:
    return "sha1=" + hmac.new(app_secret.encode(), body, hashlib.sha1).hexdigest()


def signed_headers(app_secret: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature_256(app_secret, body),
        "X-Hub-Signature": signature_sha1(app_secret, body),
        "User-Agent": "facebookexternalua",
    }


def verify(app_secret: str, body: bytes, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(signature_256(app_secret, body), header)
