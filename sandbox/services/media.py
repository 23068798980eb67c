"""Media upload, retrieval and deletion (META-MEDIA), and the media objects of inbound messages."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from sandbox.context import Tenant
from sandbox.domain.errors import Conflict, Invalid
from sandbox.domain.media import (
    INBOUND_MIME_TYPES,
    INBOUND_TTL,
    UPLOAD_KINDS,
    UPLOAD_TTL,
    UPLOAD_TYPES_TEXT,
    URL_TTL,
    Media,
)
from sandbox.errors import GraphError, GraphErrorCode, unknown_object

MEDIA_TYPES = frozenset(INBOUND_MIME_TYPES)
# Placeholder bytes served for inbound media: the sandbox has no customer's photo to give.
_INBOUND_BYTES = b"wa-sandbox inbound media placeholder\n"


def upload_media(tenant: Tenant, phone_number_id: str, mime_type: str, data: bytes, filename: str | None) -> Media:
    """`POST /{phone-number-id}/media`: store the file for 30 days and return its id."""
    kind = UPLOAD_KINDS.get(mime_type.split(";")[0].strip().lower())
    if kind is None:
        raise GraphError(
            GraphErrorCode.INVALID_PARAMETER,
            None,
            message=f"(#100) Param file must be a file with one of the following types: {UPLOAD_TYPES_TEXT}. "
            f"Received file of type '{mime_type}'.",
        )
    limit = tenant.policy.limits.media_max_bytes[kind]
    if len(data) > limit:
        raise GraphError(
            GraphErrorCode.MEDIA_UPLOAD_ERROR,
            f"File size too large. Max file size for {mime_type} is {limit} bytes, received {len(data)} bytes.",
        )
    full = _storage_full(tenant, len(data))
    if full is not None:
        raise GraphError(GraphErrorCode.MEDIA_UPLOAD_ERROR, full)
    return _keep(tenant, mime_type, data, filename, phone_number_id, UPLOAD_TTL, hashlib.sha256(data).hexdigest())


def _storage_full(tenant: Tenant, size: int) -> str | None:
    """Why `size` more bytes cannot be kept (the policy's journal caps on media), or None."""
    store, journal = tenant.store.media, tenant.policy.journal
    store.expire(tenant.clock.now())
    if store.bytes + size > journal.media_bytes or len(store) >= journal.media_objects:
        return (
            f"Media storage is full: {len(store)} objects, {store.bytes} bytes held of the sandbox policy's "
            f"{journal.media_objects} objects, {journal.media_bytes} bytes (journal.media_objects, "
            "journal.media_bytes). Delete media or wait for it to expire."
        )
    return None


def _keep(
    tenant: Tenant, mime_type: str, data: bytes, filename: str | None, phone_number_id: str, ttl: timedelta, sha: str
) -> Media:
    now = tenant.clock.now()
    media = Media(
        id=tenant.ids.media_id(),
        mime_type=mime_type,
        sha256=sha,
        file_size=len(data),
        phone_number_id=phone_number_id,
        created_at=now,
        expires_at=now + ttl,
        data=data,
        filename=filename,
    )
    tenant.store.media.add(media.id, media)
    return media


def customer_file_limit(tenant: Tenant, mime_type: str) -> int:
    """The most bytes a customer's file of `mime_type` may have: the cap of its kind that Graph uploads have
    (policy `limits.media_max_bytes`); `Invalid` for a type Graph uploads do not take."""
    kind = UPLOAD_KINDS.get(mime_type.split(";")[0].strip().lower())
    if kind is None:
        raise Invalid(f"the file's type must be one of {UPLOAD_TYPES_TEXT}; got {mime_type[:100]!r}")
    return int(tenant.policy.limits.media_max_bytes[kind])


def keep_customer_file(
    tenant: Tenant, message_type: str | None, mime_type: str, data: bytes, filename: str | None
) -> tuple[str, Media]:
    """A file a customer sends, kept as tenant media for 7 days as Meta keeps inbound media, so the business can
    `GET /{media-id}` and download it; returns the message type it is sent as (from the file's type when not
    given: an image/webp is a sticker) and the media."""
    limit = customer_file_limit(tenant, mime_type)
    kind = UPLOAD_KINDS[mime_type.split(";")[0].strip().lower()]
    sent_as = message_type or kind
    if sent_as != "document" and sent_as != kind:
        raise Invalid(f"{mime_type} files are sent as {kind} or document messages, not as {sent_as}")
    if not data:
        raise Invalid("the body must be the file's bytes; it is empty")
    if len(data) > limit:
        raise Invalid(f"the file is {len(data)} bytes; a {kind} is at most {limit} (policy limits.media_max_bytes)")
    full = _storage_full(tenant, len(data))
    if full is not None:
        raise Conflict(full)
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return sent_as, _keep(tenant, mime_type, data, filename, "", INBOUND_TTL, sha)


def inbound_media(tenant: Tenant, message_type: str, content: Any, now: datetime) -> Any:
    """Give an inbound media message the `id`, `mime_type` and `sha256` Meta adds, registered for 7 days."""
    if message_type not in MEDIA_TYPES or not isinstance(content, dict):
        return content
    content = dict(content)
    kept = tenant.store.media.get(str(content.get("id") or ""))
    if kept is not None and not kept.expired(now):
        # A file the customer sent (`keep_customer_file`): the message carries what is stored.
        return content | {"id": kept.id, "mime_type": kept.mime_type, "sha256": kept.sha256}
    media = Media(
        id=str(content.get("id") or tenant.ids.media_id()),
        mime_type=str(content.get("mime_type") or INBOUND_MIME_TYPES[message_type]),
        sha256=str(content.get("sha256") or base64.b64encode(hashlib.sha256(_INBOUND_BYTES).digest()).decode()),
        file_size=len(_INBOUND_BYTES),
        phone_number_id="",
        created_at=now,
        expires_at=now + INBOUND_TTL,
        data=_INBOUND_BYTES,
        filename=content.get("filename"),
    )
    store = tenant.store.media
    store.expire(now)
    # A customer's message always arrives: over the count, the media that expires first is forgotten.
    while len(store) >= tenant.policy.journal.media_objects and (first := store.earliest()) is not None:
        store.remove(first.id)
    store.add(media.id, media)
    content.update({"mime_type": media.mime_type, "sha256": media.sha256, "id": media.id})
    return content


def live_media(tenant: Tenant, media_id: str, method: str) -> Media:
    tenant.store.media.expire(tenant.clock.now())
    media = tenant.store.media.get(media_id)
    if media is None or media.expired(tenant.clock.now()):
        raise unknown_object(media_id, method)
    return media


def media_url_hash(tenant: Tenant, media: Media, expires: int) -> str:
    digest = hmac.new(tenant.credentials.app_secret.encode(), f"{media.id}:{expires}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:18]).decode()


def retrieve_media_url(tenant: Tenant, media_id: str, phone_number_id: str | None) -> tuple[Media, int, str]:
    """`GET /{media-id}`: the media and a download URL's expiry and hash, valid for five minutes."""
    media = live_media(tenant, media_id, "GET")
    if phone_number_id and media.phone_number_id and phone_number_id != media.phone_number_id:
        raise GraphError(
            GraphErrorCode.INVALID_PARAMETER,
            f"Media {media_id} does not belong to phone number {phone_number_id}",
        )
    expires = int((tenant.clock.now() + URL_TTL).timestamp())
    return media, expires, media_url_hash(tenant, media, expires)


def download_media(tenant: Tenant, media_id: str, expires: str, url_hash: str) -> Media | None:
    """The bytes behind a media URL, or `None` (Meta answers 404) when the URL is wrong or expired."""
    tenant.store.media.expire(tenant.clock.now())
    media = tenant.store.media.get(media_id)
    if media is None or media.data is None or media.expired(tenant.clock.now()):
        return None
    if not (expires.isascii() and expires.isdigit()):
        return None
    if int(expires) < tenant.clock.timestamp() or not hmac.compare_digest(
        media_url_hash(tenant, media, int(expires)), url_hash
    ):
        return None
    return media


def delete_media(tenant: Tenant, media_id: str, phone_number_id: str | None) -> None:
    live_media(tenant, media_id, "DELETE")
    tenant.store.media.remove(media_id)
