"""Media: upload (multipart, as each client of client-traffic.md §2.4 sends it), URL, download, expiry, delete
(meta-messaging.md §7)."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.testing import check_graph_error

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
BOUNDARY = "----wasandboxboundary"


def multipart(parts: list[tuple[str, str | None, str | None, bytes]]) -> tuple[bytes, dict[str, str]]:
    """A multipart body with parts in exactly this order: (name, filename, content type, data)."""
    chunks: list[bytes] = []
    for name, filename, content_type, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        chunks.append(f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode())
        if content_type is not None:
            chunks.append(f"Content-Type: {content_type}\r\n".encode())
        chunks.append(b"\r\n" + data + b"\r\n")
    chunks.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(chunks), {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def upload(client: TestClient, auth: dict[str, str], phone: str, data: bytes = PNG, mime: str = "image/png") -> str:
    response = client.post(
        f"/v23.0/{phone}/media",
        headers=auth,
        data={"messaging_product": "whatsapp", "type": mime},
        files={"file": ("photo.png", data, mime)},
    )
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["id"]
    media_id = response.json()["id"]
    assert media_id.isdigit() and 15 <= len(media_id) <= 19
    return str(media_id)


def advance(client: TestClient, tenant: Tenant, seconds: float) -> None:
    assert client.post(f"/_sandbox/tenants/{tenant.id}/clock/advance", json={"seconds": seconds}).status_code == 200


CLIENT_VARIANTS = {
    # Most libraries: messaging_product, type (MIME), then the file.
    "pywa-style": [("messaging_product", None, None, b"whatsapp"), ("type", None, None, b"image/png"),
                   ("file", "photo.png", "image/png", PNG)],
    # File first, then the fields.
    "file-first": [("file", "photo.png", "image/png", PNG), ("type", None, None, b"image/png"),
                   ("messaging_product", None, None, b"whatsapp")],
    # heyoo: the filename is a full path.
    "heyoo-path-filename": [("messaging_product", None, None, b"whatsapp"), ("type", None, None, b"image/png"),
                            ("file", "scratch/a.png", "image/png", PNG)],
    # microfox: `type=image` and a file called `blob`.
    "microfox-type-image": [("messaging_product", None, None, b"whatsapp"), ("type", None, None, b"image"),
                            ("file", "blob", "image/png", PNG)],
    # A generic part type: the MIME type comes from the `type` field.
    "octet-stream-part": [("messaging_product", None, None, b"whatsapp"), ("type", None, None, b"image/png"),
                          ("file", "blob", "application/octet-stream", PNG)],
    # No part type, no `type` field: inferred from the filename.
    "no-type-at-all": [("messaging_product", None, None, b"whatsapp"), ("file", "photo.png", None, PNG)],
}  # fmt: skip


@pytest.mark.parametrize("variant", list(CLIENT_VARIANTS))
def test_upload_client_variants(client: TestClient, auth: dict[str, str], phone_number_id: str, variant: str) -> None:
    body, headers = multipart(CLIENT_VARIANTS[variant])
    response = client.post(f"/v23.0/{phone_number_id}/media", headers=auth | headers, content=body)
    assert response.status_code == 200, response.text
    media = client.get(f"/v23.0/{response.json()['id']}", headers=auth).json()
    assert media["mime_type"] == "image/png"
    assert media["file_size"] == len(PNG)


def test_upload_whatsapp_api_js_style(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    """whatsapp-api-js sends no `type` field and puts `messaging_product` in the query string."""
    body, headers = multipart([("file", "photo.png", "image/png", PNG)])
    response = client.post(
        f"/v23.0/{phone_number_id}/media",
        params={"messaging_product": "whatsapp"},
        headers=auth | headers,
        content=body,
    )
    assert response.status_code == 200, response.text


def test_retrieve_media_url(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    media_id = upload(client, auth, phone_number_id)
    response = client.get(f"/v23.0/{media_id}", headers=auth, params={"phone_number_id": phone_number_id})
    assert response.status_code == 200
    media = response.json()
    assert set(media) == {"messaging_product", "url", "mime_type", "sha256", "file_size", "id"}
    assert media["messaging_product"] == "whatsapp"
    assert media["id"] == media_id
    assert media["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert media["file_size"] == len(PNG) and isinstance(media["file_size"], int)
    query = parse_qs(urlsplit(media["url"]).query)
    assert query["mid"] == [media_id] and query["ext"][0].isdigit() and query["hash"]


def test_download_with_bearer(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    media_id = upload(client, auth, phone_number_id)
    url = client.get(f"/v23.0/{media_id}", headers=auth).json()["url"]
    response = client.get(url, headers=auth)
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"


def test_download_without_token_fails(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    media_id = upload(client, auth, phone_number_id)
    url = client.get(f"/v23.0/{media_id}", headers=auth).json()["url"]
    assert client.get(url).status_code in (401, 404)


def test_download_with_another_tenants_token_is_404(
    client: TestClient, auth: dict[str, str], phone_number_id: str
) -> None:
    media_id = upload(client, auth, phone_number_id)
    url = client.get(f"/v23.0/{media_id}", headers=auth).json()["url"]
    other = client.post("/_sandbox/tenants", json={"name": "other"}).json()
    assert client.get(url, headers={"Authorization": f"Bearer {other['access_token']}"}).status_code == 404


def test_tampered_url_is_404(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    media_id = upload(client, auth, phone_number_id)
    url = client.get(f"/v23.0/{media_id}", headers=auth).json()["url"]
    assert client.get(url.replace("hash=", "hash=x"), headers=auth).status_code == 404
    assert client.get(url.replace("&ext=", "&ext=9"), headers=auth).status_code == 404


def test_url_expires_after_five_minutes(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    media_id = upload(client, auth, phone_number_id)
    url = client.get(f"/v23.0/{media_id}", headers=auth).json()["url"]
    advance(client, tenant, 299)
    assert client.get(url, headers=auth).status_code == 200
    advance(client, tenant, 2)
    assert client.get(url, headers=auth).status_code == 404
    fresh = client.get(f"/v23.0/{media_id}", headers=auth).json()["url"]
    assert client.get(fresh, headers=auth).status_code == 200


def test_media_expires_after_30_days(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    media_id = upload(client, auth, phone_number_id)
    advance(client, tenant, 30 * 86400 - 1)
    url = client.get(f"/v23.0/{media_id}", headers=auth).json()["url"]
    advance(client, tenant, 1)
    check_graph_error(client.get(f"/v23.0/{media_id}", headers=auth), 100, 400, subcode=33)
    assert client.get(url, headers=auth).status_code == 404


def test_delete_media(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    media_id = upload(client, auth, phone_number_id)
    url = client.get(f"/v23.0/{media_id}", headers=auth).json()["url"]
    response = client.delete(f"/v23.0/{media_id}", headers=auth, params={"phone_number_id": phone_number_id})
    assert response.status_code == 200
    assert response.json() == {"success": True}
    check_graph_error(client.get(f"/v23.0/{media_id}", headers=auth), 100, 400, subcode=33)
    check_graph_error(client.delete(f"/v23.0/{media_id}", headers=auth), 100, 400, subcode=33)
    assert client.get(url, headers=auth).status_code == 404


def test_media_of_another_phone_number_is_refused(
    client: TestClient, auth: dict[str, str], phone_number_id: str
) -> None:
    media_id = upload(client, auth, phone_number_id)
    response = client.get(f"/v23.0/{media_id}", headers=auth, params={"phone_number_id": "123456789012345"})
    check_graph_error(response, 100, 400)


def test_upload_without_messaging_product(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    response = client.post(f"/v23.0/{phone_number_id}/media", headers=auth, files={"file": ("a.png", PNG, "image/png")})
    error = check_graph_error(response, 100, 400)
    assert error["message"] == "(#100) The parameter messaging_product is required."


def test_upload_without_file(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    body, headers = multipart([("messaging_product", None, None, b"whatsapp")])
    response = client.post(f"/v23.0/{phone_number_id}/media", headers=auth | headers, content=body)
    check_graph_error(response, 100, 400)


def test_upload_unsupported_type(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    response = client.post(
        f"/v23.0/{phone_number_id}/media",
        headers=auth,
        data={"messaging_product": "whatsapp"},
        files={"file": ("a.bin", b"\x00\x01", "application/octet-stream")},
    )
    error = check_graph_error(response, 100, 400)
    assert error["message"].startswith("(#100) Param file must be a file with one of the following types: text/plain")
    assert error["message"].endswith("Received file of type 'application/octet-stream'.")


def test_upload_too_large_image(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    response = client.post(
        f"/v23.0/{phone_number_id}/media",
        headers=auth,
        data={"messaging_product": "whatsapp"},
        files={"file": ("big.png", b"\x00" * (5 * 1024 * 1024 + 1), "image/png")},
    )
    error = check_graph_error(response, 131053, 400)
    assert "File size too large" in error["error_data"]["details"]


@pytest.mark.parametrize("content", [b"--x\r\n", b"not multipart at all", b""])
def test_malformed_multipart(client: TestClient, auth: dict[str, str], phone_number_id: str, content: bytes) -> None:
    response = client.post(
        f"/v23.0/{phone_number_id}/media",
        headers=auth | {"Content-Type": "multipart/form-data; boundary=x"},
        content=content,
    )
    check_graph_error(response, 100, 400)


def test_upload_as_json_is_refused(client: TestClient, auth: dict[str, str], phone_number_id: str) -> None:
    response = client.post(f"/v23.0/{phone_number_id}/media", headers=auth, json={"messaging_product": "whatsapp"})
    check_graph_error(response, 100, 400)


def test_inbound_media_is_retrievable(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    client.post(
        f"/_sandbox/tenants/{tenant.id}/inbound",
        json={"from": "16505551234", "type": "image", "image": {"caption": "look"}},
    )
    message = client.get(f"/_sandbox/tenants/{tenant.id}/messages", params={"direction": "inbound"}).json()["data"][0]
    media_id = message["image"]["id"]
    media = client.get(f"/v23.0/{media_id}", headers=auth).json()
    assert media["mime_type"] == "image/jpeg"
    assert client.get(media["url"], headers=auth).status_code == 200
    advance(client, tenant, 7 * 86400)
    check_graph_error(client.get(f"/v23.0/{media_id}", headers=auth), 100, 400, subcode=33)
