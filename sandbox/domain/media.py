"""Media objects: what was uploaded by the business or sent by a customer (META-MEDIA)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

UPLOAD_TTL = timedelta(days=30)
INBOUND_TTL = timedelta(days=7)
URL_TTL = timedelta(minutes=5)

MB = 1024 * 1024
# The largest file of each kind (META-MEDIA §7.4); a sticker is 100 KB static, 500 KB animated: an upload cannot
# tell the two apart, so the animated limit applies. Policy `limits.media_max_bytes` starts from these.
MEDIA_MAX_BYTES: dict[str, int] = {
    "audio": 16 * MB,
    "document": 100 * MB,
    "image": 5 * MB,
    "video": 16 * MB,
    "sticker": 500 * 1024,
}
# Upload accepts the types of Meta's (#100) error text, each of one kind.
UPLOAD_KINDS: dict[str, str] = {
    "text/plain": "document",
    "application/pdf": "document",
    "application/vnd.ms-powerpoint": "document",
    "application/msword": "document",
    "application/vnd.ms-excel": "document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "document",
    "video/mp4": "video",
    "video/3gpp": "video",
    "image/jpeg": "image",
    "image/png": "image",
    "image/webp": "sticker",
    "audio/aac": "audio",
    "audio/mp4": "audio",
    "audio/mpeg": "audio",
    "audio/amr": "audio",
    "audio/ogg": "audio",
    "audio/opus": "audio",
}
UPLOAD_LIMITS: dict[str, int] = {mime: MEDIA_MAX_BYTES[kind] for mime, kind in UPLOAD_KINDS.items()}
UPLOAD_TYPES_TEXT = (
    "text/plain, video/mp4, video/3gpp, image/jpeg, image/png, image/webp, audio/aac, audio/mp4, audio/mpeg, "
    "audio/amr, audio/ogg, audio/opus, application/vnd.ms-powerpoint, application/msword, "
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document, "
    "application/vnd.openxmlformats-officedocument.presentationml.presentation, "
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, application/pdf, application/vnd.ms-excel"
)
INBOUND_MIME_TYPES = {
    "image": "image/jpeg",
    "video": "video/mp4",
    "audio": "audio/ogg; codecs=opus",
    "document": "application/pdf",
    "sticker": "image/webp",
}


@dataclass(slots=True)
class Media:
    id: str
    mime_type: str
    sha256: str
    file_size: int
    phone_number_id: str
    created_at: datetime
    expires_at: datetime
    data: bytes | None = None
    filename: str | None = None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at
