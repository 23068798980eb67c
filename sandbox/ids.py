"""Identifiers in Meta's formats, drawn from a seeded generator so that one seed replays one world.

A server that replays nothing mixes a salt into its generators (`salted`), so ids never repeat across starts; a
server that must not hand out computable credentials draws them from `secrets` (`secret_credentials`).
"""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
import string
from typing import Any


class IdFactory:
    """One method per id kind, named after the Graph field it fills."""

    def __init__(self, rng: random.Random, token_tag: str = "") -> None:
        self._rng = rng
        # A shard's access tokens carry it after `EAA` (`shard_tag`): the front routes them with no lookup.
        self._token_tag = token_tag

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # The CSPRNG has no state to save: a restored world draws its further secrets from `secrets` again.
        if isinstance(self._rng, random.SystemRandom):
            return secret_credentials, (self._token_tag,)
        return IdFactory, (self._rng, self._token_tag)

    def _digits(self, count: int) -> str:
        return str(self._rng.randint(1, 9)) + "".join(self._rng.choices(string.digits, k=count - 1))

    def _hex(self, count: int) -> str:
        # One `getrandbits` formatted as hex rather than `choices` per character: 2.0 → 0.3 µs (a wamid per send).
        return f"{self._rng.getrandbits(4 * count):0{count}X}"

    def wamid(self, wa_id: str, *, outbound: bool = True) -> str:
        """`wamid.` + base64 of the Thrift-compact struct Meta uses (see meta-messaging.md §2.3).

        Outbound ids carry the `0x11` flag and 18 hex characters; inbound ids `0x12` and 20 (`3A…`-style).
        """
        user = wa_id.encode()[:40]
        local = ("3A" + self._hex(18)) if not outbound else self._hex(18)
        raw = (
            b"\x1c\x18"
            + bytes([len(user)])
            + user
            + b"\x15\x02\x00"
            + (b"\x11" if outbound else b"\x12")
            + b"\x18"
            + bytes([len(local)])
            + local.encode()
            + b"\x00"
        )
        return "wamid." + base64.b64encode(raw).decode()

    def fbtrace_id(self) -> str:
        # URL-safe base64 of random bytes has Meta's alphabet (A-Z a-z 0-9 - _): 2.3 → 0.5 µs, on every Graph call.
        return "A" + base64.urlsafe_b64encode(self._rng.randbytes(18)).decode()[:22]

    def media_id(self) -> str:
        return self._digits(16)

    def node_id(self) -> str:
        """Graph object ids (phone numbers, WABAs, businesses, apps, templates) are 15–16 digit strings."""
        return self._digits(15)

    def access_token(self) -> str:
        tag = self._token_tag
        return "EAA" + tag + "".join(self._rng.choices(string.ascii_letters + string.digits, k=180 - len(tag)))

    def app_secret(self) -> str:
        return "".join(self._rng.choices("0123456789abcdef", k=32))

    def conversation_id(self) -> str:
        return f"{self._rng.getrandbits(128):032x}"

    def user_id(self, country: str) -> str:
        """A business-scoped user id (BSUID), e.g. `US.13491208655302741918`."""
        return f"{country}.{self._digits(20)}"

    def sha256_b64(self) -> str:
        return base64.b64encode(self._rng.randbytes(32)).decode()

    def token(self, length: int = 12) -> str:
        return "".join(self._rng.choices(string.ascii_letters + string.digits, k=length))


def process_salt() -> str:
    """Fresh on every start: what makes an unseeded server's ids differ from the previous run's."""
    return secrets.token_hex(16)


def salted(*parts: object, salt: str | None) -> random.Random:
    """The generator for `parts` (e.g. seed, "ids"): exactly the replayed one without a salt."""
    key = ":".join(str(part) for part in parts)
    return random.Random(key if salt is None else f"{key}:{salt}")


def secret_credentials(token_tag: str = "") -> IdFactory:
    """Tokens and app secrets from the operating system's CSPRNG (`secrets` is built on `SystemRandom`)."""
    return IdFactory(secrets.SystemRandom(), token_tag)


# Where a shard's access tokens carry it (docs/deployment.md): two decimal digits right after `EAA`.
TAG_OFFSET = 3
TAG_LENGTH = 2


def shard_tag(index: int, count: int) -> str:
    """What the tokens shard `index` of `count` mints carry; nothing on a server of one process."""
    return "" if count <= 1 else f"{index:0{TAG_LENGTH}d}"


def shard_for(name: str, count: int) -> int:
    """The shard a new tenant called `name` is created on: from its name alone, so that a seed replays."""
    return int.from_bytes(hashlib.sha256(name.encode(errors="surrogatepass")).digest()[:8], "big") % count


def token_key(token: str) -> bytes:
    """What the token index is keyed by: a lookup's timing depends on a hash of the token, never on the token."""
    return hashlib.sha256(token.encode(errors="surrogatepass")).digest()
