"""Meta's body encoding and signatures: the orjson path for float-free payloads writes exactly json's bytes."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sandbox.webhooks.signing import meta_json, signature_256, signature_sha1, signed_headers, verify

SECRET = "0123456789abcdef0123456789abcdef"

# Everything a float-free payload can hold: every code point (lone surrogates too), ints beyond 64 bits.
scalars = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.text()
trees = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def reference(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode("ascii")


@given(trees)
def test_the_fast_path_writes_the_same_bytes_as_json(payload: Any) -> None:
    assert meta_json(payload, floats=False) == reference(payload)
    assert meta_json(payload) == reference(payload)


def test_escapes_as_meta_does() -> None:
    payload = {"name": "Zoë 😮 a/b \x7f \u2028", "n": 1, "ok": True}
    expected = b'{"name":"Zo\\u00eb \\ud83d\\ude2e a\\/b \\u007f \\u2028","n":1,"ok":true}'
    assert meta_json(payload, floats=False) == meta_json(payload) == expected


def test_floats_keep_pythons_form() -> None:
    assert meta_json({"latitude": 1e-05, "big": 1e16}) == b'{"latitude":1e-05,"big":1e+16}'


def test_signatures_are_hmacs_of_the_exact_body_with_the_app_secret() -> None:
    body = meta_json({"object": "whatsapp_business_account", "entry": []})
    for secret in (SECRET, "another-secret", SECRET):  # cached keyed states must not leak between secrets
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert signature_256(secret, body) == f"sha256={expected}"
        assert signature_sha1(secret, body) == "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        headers = signed_headers(secret, body)
        assert headers["X-Hub-Signature-256"] == f"sha256={expected}"
        assert verify(secret, body, headers["X-Hub-Signature-256"])
        assert not verify(secret, body + b" ", headers["X-Hub-Signature-256"])
