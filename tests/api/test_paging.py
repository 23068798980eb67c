"""Graph's list edges page as Meta does: `paging.cursors`, and absolute `next` / `previous` links present only while
there is more to read (pywa's `Result.has_next` follows `next`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.testclient import TestClient

from sandbox.context import Tenant

BODY = {"type": "BODY", "text": "Your order {{1}} has shipped today.", "example": {"body_text": [["42"]]}}


def test_next_and_previous_links_walk_the_whole_list(client: TestClient, tenant: Tenant, auth: dict[str, str]) -> None:
    for n in range(2):
        created = client.post(
            f"/v23.0/{tenant.waba_id}/message_templates",
            json={"name": f"order_{n}", "language": "en_US", "category": "UTILITY", "components": [BODY]},
            headers=auth,
        )
        assert created.status_code == 200, created.text
    first = client.get(f"/v23.0/{tenant.waba_id}/message_templates", params={"limit": 1}, headers=auth).json()
    assert "previous" not in first["paging"] and first["paging"]["next"].startswith("http")
    names = [first["data"][0]["name"]]
    link: str | None = first["paging"]["next"]
    pages = [first]
    while link:
        parts = urlsplit(link)
        assert parts.path == f"/v23.0/{tenant.waba_id}/message_templates"
        answer = client.get(f"{parts.path}?{parts.query}", headers=auth).json()
        pages.append(answer)
        names += [t["name"] for t in answer["data"]]
        link = answer["paging"].get("next")
    assert sorted(names) == ["hello_world", "order_0", "order_1"]
    assert "previous" in pages[-1]["paging"] and len(pages) == 3
