"""How a browser carries the admin token: once in `?token=`, then in an HttpOnly cookie.

A browser cannot add `Authorization: Bearer` to a link or a form, so the dashboard's entry link carries the token in
its query; the answer is a redirect that drops it from the address bar and stores it in a cookie, which every later
page and every control-plane call the pages make (same origin) sends. `SameSite=Strict` keeps other sites' pages
from making those calls with it.
"""

from __future__ import annotations

import hmac
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import Scope

COOKIE = "wa_sandbox_admin"
PREFIX = "/_sandbox/ui"


def _cookie(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is no token
                return ""
            if COOKIE in jar:
                return jar[COOKIE].value
    return ""


def cookie_admits(scope: Scope, token: str) -> bool:
    return hmac.compare_digest(_cookie(scope).encode(), token.encode())


def login(scope: Scope, token: str) -> Response | None:
    """The answer to a dashboard link that carries the right `?token=`: the same page without it, the cookie set.
    None when the link carries no token or a wrong one."""
    if not scope["path"].startswith(PREFIX):
        return None
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    given = next((value for key, value in query if key == "token"), None)
    if given is None or not hmac.compare_digest(given.encode(), token.encode()):
        return None
    rest = urlencode([(key, value) for key, value in query if key != "token"])
    response = RedirectResponse(scope["path"] + (f"?{rest}" if rest else ""), status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/_sandbox/")
    return response


def refusal() -> Response:
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>wa-sandbox dashboard</title></head><body>"
        "<h1>The dashboard needs the admin token</h1><p>This server was started with an admin token. Open the "
        "dashboard link the start-up banner prints, or add <code>?token=&lt;admin token&gt;</code> to this "
        "address once; the browser then keeps it in a cookie.</p></body></html>",
        status_code=401,
    )
