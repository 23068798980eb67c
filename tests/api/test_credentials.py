"""Off loopback, a token computed from the seed opens nothing; the real one, read with the admin token, works."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox
from sandbox.domain.commands import CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings
from sandbox.testing import RecordingTransport, check_graph_error

ADMIN = {"Authorization": "Bearer an-admin-token-long-enough"}


def _computed(name: str) -> str:
    """What anyone can compute: the token a loopback server with the same seed hands out."""
    return create_tenant(Sandbox(Settings(seed=0)), CreateTenant(name=name)).credentials.access_token


@pytest.fixture
def public() -> Iterator[TestClient]:
    sandbox = Sandbox(Settings(seed=0, host="0.0.0.0", admin_token=ADMIN["Authorization"].removeprefix("Bearer ")))
    create_tenant(sandbox, CreateTenant(name="default"))
    with TestClient(create_app(sandbox, transport=RecordingTransport())) as client:
        yield client


def test_a_computed_token_does_not_work_off_loopback(public: TestClient) -> None:
    document = public.get("/_sandbox/tenants/default", headers=ADMIN).json()
    phone = document["phone_number_id"]
    computed = _computed("default")
    assert computed != document["access_token"]
    check_graph_error(public.get(f"/v23.0/{phone}", headers={"Authorization": f"Bearer {computed}"}), 190, 401)
    created = public.post("/_sandbox/tenants", headers=ADMIN, json={"name": "team-a"}).json()
    check_graph_error(
        public.get(f"/v23.0/{created['waba_id']}", headers={"Authorization": f"Bearer {_computed('team-a')}"}),
        190,
        401,
    )
    # The world is the seed's (the same number id), and its real token opens it.
    assert phone == create_tenant(Sandbox(Settings(seed=0)), CreateTenant(name="default")).document()["phone_number_id"]
    answer = public.get(f"/v23.0/{phone}", headers={"Authorization": f"Bearer {document['access_token']}"})
    assert answer.status_code == 200, answer.text


def test_a_token_issued_off_loopback_works_and_is_not_the_seeds(public: TestClient) -> None:
    issued = public.post("/_sandbox/tenants/default/tokens", headers=ADMIN, json={}).json()["access_token"]
    phone = public.get("/_sandbox/tenants/default", headers=ADMIN).json()["phone_number_id"]
    assert public.get(f"/v23.0/{phone}", headers={"Authorization": f"Bearer {issued}"}).status_code == 200
    seeded = Sandbox(Settings(seed=0))
    from sandbox.domain.commands import IssueToken
    from sandbox.services.tenants import issue_token

    tenant = create_tenant(seeded, CreateTenant(name="default"))
    assert issued != issue_token(tenant, seeded, IssueToken())["access_token"]


def test_wamids_do_not_repeat_after_a_restart() -> None:
    """Two starts of an unseeded server: a receiver de-duplicating by wamid sees every message of the second."""
    sent: list[str] = []
    for _ in range(2):
        sandbox = Sandbox(Settings())
        tenant = create_tenant(sandbox, CreateTenant(name="default"))
        with TestClient(create_app(sandbox, transport=RecordingTransport())) as client:
            phone = tenant.document()["phone_number_id"]
            body = {
                "messaging_product": "whatsapp",
                "to": "+16505551234",
                "type": "template",
                "template": {"name": "hello_world", "language": {"code": "en_US"}},
            }
            headers = {"Authorization": f"Bearer {tenant.credentials.access_token}"}
            for _ in range(3):
                answer = client.post(f"/v23.0/{phone}/messages", headers=headers, json=body)
                assert answer.status_code == 200, answer.text
                sent.append(answer.json()["messages"][0]["id"])
    assert len(set(sent)) == 6
