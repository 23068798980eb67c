"""The dashboard under an admin token: `?token=` once, then the HttpOnly cookie, for pages and control calls."""

from __future__ import annotations

from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.context import Sandbox
from sandbox.domain.commands import CreateTenant
from sandbox.services.tenants import create_tenant
from sandbox.settings import Settings


def _client() -> TestClient:
    sandbox = Sandbox(Settings(admin_token="s3cret"))
    create_tenant(sandbox, CreateTenant(name="default"))
    return TestClient(create_app(sandbox))


def test_without_the_token_a_page_says_how_to_get_in() -> None:
    with _client() as client:
        answer = client.get("/_sandbox/ui/")
        assert answer.status_code == 401
        assert "?token=" in answer.text
        assert client.get("/_sandbox/ui/?token=wrong").status_code == 401


def test_the_token_in_the_link_becomes_a_cookie_the_control_plane_accepts() -> None:
    with _client() as client:
        answer = client.get("/_sandbox/ui/?token=s3cret", follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/_sandbox/ui/"
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/_sandbox/" in cookie
        client.cookies.set("wa_sandbox_admin", "s3cret")
        assert client.get("/_sandbox/ui/").status_code == 200
        advanced = client.post("/_sandbox/tenants/default/clock/advance", json={"seconds": 60})
        assert advanced.status_code == 200, advanced.text
