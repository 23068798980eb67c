"""Media storage is bounded (issue 15 item 5): Meta's size per kind as policy, a tenant's bytes and objects capped,
and expired media freed, not only hidden."""

from __future__ import annotations

from starlette.testclient import TestClient

from sandbox.context import Tenant
from sandbox.testing import check_graph_error

from .test_media import PNG, advance, upload


def post_png(client: TestClient, auth: dict[str, str], phone: str, data: bytes) -> object:
    return client.post(
        f"/v23.0/{phone}/media",
        headers=auth,
        data={"messaging_product": "whatsapp"},
        files={"file": ("a.png", data, "image/png")},
    )


def test_expired_media_frees_its_bytes(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    media_id = upload(client, auth, phone_number_id)
    assert tenant.store.media.bytes == len(PNG)
    advance(client, tenant, 30 * 86400)
    check_graph_error(client.get(f"/v23.0/{media_id}", headers=auth), 100, 400, subcode=33)
    assert media_id not in tenant.store.media
    assert tenant.store.media.bytes == 0


def test_deleted_media_frees_its_bytes(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    media_id = upload(client, auth, phone_number_id)
    assert client.delete(f"/v23.0/{media_id}", headers=auth).status_code == 200
    assert tenant.store.media.bytes == 0


def test_an_upload_beyond_the_tenant_bytes_fails(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    patch = client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"journal": {"media_bytes": 2 * len(PNG)}})
    assert patch.status_code == 200, patch.text
    upload(client, auth, phone_number_id)
    upload(client, auth, phone_number_id)
    error = check_graph_error(post_png(client, auth, phone_number_id, PNG), 131053, 400)
    assert "journal.media_bytes" in error["error_data"]["details"]
    assert tenant.store.media.bytes == 2 * len(PNG)
    advance(client, tenant, 30 * 86400)
    upload(client, auth, phone_number_id)
    assert tenant.store.media.bytes == len(PNG)


def test_an_upload_beyond_the_object_count_fails(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"journal": {"media_objects": 1}})
    upload(client, auth, phone_number_id)
    check_graph_error(post_png(client, auth, phone_number_id, PNG), 131053, 400)


def test_inbound_media_displaces_the_earliest_to_expire(client: TestClient, tenant: Tenant) -> None:
    client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"journal": {"media_objects": 2}})
    for n in range(5):
        sent = client.post(
            f"/_sandbox/tenants/{tenant.id}/inbound", json={"from": f"1650555{n:04d}", "type": "image", "image": {}}
        )
        assert sent.status_code == 200, sent.text
    assert len(tenant.store.media) == 2


def test_the_size_of_each_kind_is_policy(
    client: TestClient, tenant: Tenant, auth: dict[str, str], phone_number_id: str
) -> None:
    assert tenant.policy.limits.media_max_bytes == {
        "audio": 16 * 2**20,
        "document": 100 * 2**20,
        "image": 5 * 2**20,
        "video": 16 * 2**20,
        "sticker": 500 * 1024,
    }
    patch = client.patch(f"/_sandbox/tenants/{tenant.id}/policy", json={"limits": {"media_max_bytes": {"image": 100}}})
    assert patch.status_code == 200, patch.text
    error = check_graph_error(post_png(client, auth, phone_number_id, PNG), 131053, 400)
    assert "Max file size for image/png is 100 bytes" in error["error_data"]["details"]
    too_big = client.patch(
        f"/_sandbox/tenants/{tenant.id}/policy", json={"limits": {"media_max_bytes": {"image": 10**12}}}
    )
    assert too_big.status_code == 400, too_big.text
