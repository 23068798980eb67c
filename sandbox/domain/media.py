"""Media objects: what was uploaded by the business or sent by a customer (META-MEDIA)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

UPLOAD_TTL = timedelta(days=30)
INBOUND_TTL = timedelta(days=7)
URL_TTL = timedelta(minutes=5)

MB = 1024 * 1024
# Upload accepts the types of Meta's (#100) error text; sizes are the per-kind limits of META-MEDIA §7.4.
UPLOAD_LIMITS: dict[str, int] = {
    "text/plain": 100 * MB,
    "application/pdf": 100 * MB,
    "application/vnd.ms-powerpoint": 100 * MB,
    "application/msword": 100 * MB,
    "application/vnd.ms-excel": 100 * MB,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 * MB,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 * MB,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 * MB,
    "video/mp4": 16 * MB,
    "video/3gpp": 16 * MB,
    "image/jpeg": 5 * MB,
    "image/png": 5 * MB,
    "image/webp": 500 * 1024,
    "audio/aac": 16 * MB,
    "audio/mp4": 16 * MB,
    "audio/mpeg": 16 * MB,
    "audio/amr": 16 * MB,
    "audio/ogg": 16 * MB,
    "audio/opus": 16 * MB,
}
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
