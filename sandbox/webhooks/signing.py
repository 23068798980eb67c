"""Meta's webhook body encoding and `X-Hub-Signature-256`."""

from __future__ import annotations

import hmac
import json
import re
from typing import Any

import orjson

_NOT_PRINTABLE_ASCII = re.compile("[^\x00-\x7e]")
# orjson serialises these natively where json refuses them; passing them through keeps json's TypeError.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_KEYS_KEPT = 1024


def meta_json(payload: Any, *, floats: bool = True) -> bytes:
    """Compact JSON with non-ASCII escaped as lowercase `\\uXXXX` and `/` as `\\/`, as Meta serialises webhooks.

    Clients such as whatsapp-api-js re-escape the body before checking the HMAC, so only this form satisfies
    every client (client-traffic.md §2.11). A caller that knows its payload holds no float (status webhooks)
    passes `floats=False` for orjson, ~10× cheaper; it writes some floats differently from Python (`0.00001`
    against `1e-05`), so anything that may hold one goes through json.
    """
    if not floats:
        try:
            out = orjson.dumps(payload, option=_ORJSON_OPTIONS)
        except TypeError:  # a lone surrogate, an int beyond 64 bits, a non-str key: json handles them
            pass
        else:
            # orjson writes non-ASCII and DEL raw, and neither occurs outside strings: escaping them in place
            # gives json's ensure_ascii form.
            if not out.isascii() or b"\x7f" in out:
                out = _NOT_PRINTABLE_ASCII.sub(_escape, out.decode()).encode("ascii")
            return out.replace(b"/", b"\\/")
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/").encode("ascii")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}"


# Keyed HMAC states per app secret, copied per body: saves re-deriving the key pads on every webhook.
_keyed: dict[tuple[str, str], hmac.HMAC] = {}


def _hmac(app_secret: str, digest: str) -> hmac.HMAC:
    keyed = _keyed.get((app_secret, digest))
    if keyed is None:
        if len(_keyed) >= _KEYS_KEPT:
            _keyed.clear()
        keyed = _keyed[app_secret, digest] = hmac.new(app_secret.encode(), digestmod=digest)
    return keyed.copy()


def signature_256(app_secret: str, body: bytes) -> str:
    mac = _hmac(app_secret, "sha256")
    mac.update(body)
    return "sha256=" + mac.hexdigest()


def signature_sha1(app_secret: str, body: bytes) -> str:
    mac = _hmac(app_secret, "sha1")
    mac.update(body)
    return "sha1=" + mac.hexdigest()


def signed_headers(app_secret: str, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature_256(app_secret, body),
        "X-Hub-Signature": signature_sha1(app_secret, body),
        "User-Agent": "facebookexternalua",
    }


def verify(app_secret: str, body: bytes, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(signature_256(app_secret, body), header)
