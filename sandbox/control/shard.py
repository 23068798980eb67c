"""`GET /_sandbox/shard`: what a front needs from one of its shards (docs/deployment.md).

The front routes Graph calls by access token through HAProxy; a token this shard minted carries its index
(`sandbox.ids.shard_tag`), every other one (a snapshot's, a token minted before the shard was one) is routed by the
front's map, which it builds from `token_keys`: SHA-256 of each token, never the token itself.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sandbox.control.common import respond, sandbox_of
from sandbox.control.routing import ControlRoute as Route
from sandbox.version import __version__


async def get_shard(request: Request) -> Response:
    sandbox = sandbox_of(request)
    keys = sorted(key.hex().upper() for key in (*sandbox.tokens, *sandbox.app_tokens))
    return respond(
        {
            "index": sandbox.settings.shard_index,
            "count": sandbox.settings.shard_count,
            "version": __version__,
            "tenants": list(sandbox.tenants),
            "token_keys": keys,
        }
    )


routes = [Route("/_sandbox/shard", get_shard, methods=["GET"])]
