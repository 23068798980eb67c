"""`POST .../inbound/media`: a customer sends a file's bytes; the business gets a media id it can download."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.testing import RecordingTransport

CUSTOMER = "16505551234"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _send(client: TestClient, tenant: Tenant, query: str, body: bytes, content_type: str) -> object:
    return client.post(
        f"/_sandbox/tenants/{tenant.id}/inbound/media?{query}", content=body, headers={"Content-Type": content_type}
    )


def test_a_customers_image_reaches_the_webhook_and_the_business_downloads_its_bytes(
    client: TestClient, tenant: Tenant, auth: dict[str, str], transport: RecordingTransport
) -> None:
    sent = _send(client, tenant, f"from={CUSTOMER}&caption=the%20receipt", PNG, "image/png")
    assert sent.status_code == 200, sent.text
    media_id = sent.json()["media"]["id"]
    messages = [
        message
        for payload in transport.payloads()
        for entry in payload["entry"]
        for change in entry["changes"]
        for message in change["value"].get("messages", [])
    ]
    assert messages[-1]["type"] == "image"
    assert messages[-1]["image"]["id"] == media_id
    assert messages[-1]["image"]["caption"] == "the receipt"
    assert messages[-1]["image"]["mime_type"] == "image/png"
    found = client.get(f"/v23.0/{media_id}", headers=auth).json()
    assert found["file_size"] == len(PNG) and found["mime_type"] == "image/png"
    download = client.get(found["url"].removeprefix("http://testserver"), headers=auth)
    assert download.status_code == 200 and download.content == PNG


def test_a_document_sent_untyped_takes_its_type_from_its_filename(client: TestClient, tenant: Tenant) -> None:
    sent = _send(client, tenant, f"from={CUSTOMER}&filename=invoice.pdf", b"%PDF-1.4 ...", "application/octet-stream")
    assert sent.status_code == 200, sent.text
    inbound = client.get(f"/_sandbox/tenants/{tenant.id}/messages?direction=inbound").json()["data"][0]
    assert inbound["type"] == "document"
    assert inbound["document"]["filename"] == "invoice.pdf"
    assert inbound["document"]["mime_type"] == "application/pdf"


@pytest.mark.parametrize(
    ("query", "body", "content_type", "status", "says"),
    [
        ("from=1", PNG, "image/png", 400, "from must be a phone number"),
        (f"from={CUSTOMER}", PNG, "text/html", 400, "the file's type must be one of"),
        (f"from={CUSTOMER}&type=sticker", PNG, "image/png", 400, "not as sticker"),
        (f"from={CUSTOMER}&type=gif", PNG, "image/png", 400, "type must be one of"),
        (f"from={CUSTOMER}", b"", "image/png", 400, "it is empty"),
        (f"from={CUSTOMER}&colour=red", PNG, "image/png", 400, "unknown field(s): colour"),
        (f"from={CUSTOMER}&caption=" + "x" * 1025, PNG, "image/png", 400, "caption must be"),
        (f"from={CUSTOMER}", b"x" * (5 * 1024 * 1024 + 1), "image/jpeg", 413, "limits.media_max_bytes"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_kept(
    client: TestClient, tenant: Tenant, query: str, body: bytes, content_type: str, status: int, says: str
) -> None:
    media_before = len(tenant.store.media)
    answer = _send(client, tenant, query, body, content_type)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["type"] == "SandboxError"
    assert says in answer.json()["error"]["message"]
    assert len(tenant.store.media) == media_before
    assert not client.get(f"/_sandbox/tenants/{tenant.id}/messages?direction=inbound").json()["data"]


def test_the_cap_is_the_policys_and_a_blocked_customers_file_is_not_kept(
    client: TestClient, tenant: Tenant, auth: dict[str, str]
) -> None:
    patched = client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"limits": {"media_max_bytes": {"image": 64}}})
    assert patched.status_code == 200, patched.text
    assert _send(client, tenant, f"from={CUSTOMER}", PNG, "image/png").status_code == 413
    hello = {"from": CUSTOMER, "type": "text", "text": {"body": "hi"}}
    assert client.post(f"/_sandbox/tenants/{tenant.id}/inbound", json=hello).status_code == 200
    phone = client.get(f"/_sandbox/tenants/{tenant.id}").json()["phone_number_id"]
    block = {"messaging_product": "whatsapp", "block_users": [{"user": CUSTOMER}]}
    assert client.post(f"/v23.0/{phone}/block_users", json=block, headers=auth).status_code == 200
    blocked = _send(client, tenant, f"from={CUSTOMER}&type=document", PNG[:32], "image/png")
    assert blocked.status_code == 409, blocked.text
    assert len(tenant.store.media) == 0
