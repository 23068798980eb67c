"""`POST|DELETE|GET /{phone-number-id}/block_users`: block, unblock and list users (META-BLOCK).

A block or unblock answers 200 with a result per user; when some users fail, each failure carries its errors and
the answer a top-level `errors` object (Meta's 139100), the shape whatsapp-api-js and pywa read.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from sandbox.api.fields import page
from sandbox.api.graph import GraphRequest, GraphRoute
from sandbox.api.message_bodies import MESSAGING_PRODUCT_REQUIRED
from sandbox.api.parsing import as_object, as_str, graph_param_error, list_at, one_of
from sandbox.domain.block_users import BLOCK_USERS_MAX, BlockUser
from sandbox.errors import GraphError, GraphErrorCode, invalid_parameter
from sandbox.services import block_users

USER_MAX = 256  # characters of one `user` / `user_id`: far beyond any phone number or BSUID


def parse_users(body: object) -> list[BlockUser]:
    request: dict[str, Any] = body if isinstance(body, dict) else {}
    if request.get("messaging_product") is None:
        raise GraphError(GraphErrorCode.INVALID_PARAMETER, None, message=MESSAGING_PRODUCT_REQUIRED)
    one_of(request["messaging_product"], ("whatsapp",), ("messaging_product",))
    entries = list_at(request, "block_users", ())
    if not entries:
        raise invalid_parameter("Param block_users must name at least one user.")
    if len(entries) > BLOCK_USERS_MAX:
        raise invalid_parameter(f"Param block_users can name at most {BLOCK_USERS_MAX} users per request.")
    users = []
    for index, entry in enumerate(entries):
        path = ("block_users", index)
        entry = as_object(entry, path)
        if ("user" in entry) == ("user_id" in entry):
            raise invalid_parameter(f"Param block_users[{index}] must have exactly one of user or user_id.")
        name = "user" if "user" in entry else "user_id"
        value = as_str(entry[name], (*path, name)).strip()
        if not value or len(value) > USER_MAX:
            raise graph_param_error(f"Param block_users[{index}]['{name}'] must be 1 to {USER_MAX} characters long.")
        users.append(BlockUser(value, by_user_id=name == "user_id"))
    return users


def _render(results: list[block_users.UserResult], done: str, verb: str) -> dict[str, Any]:
    succeeded, failed = [], []
    for result in results:
        if result.failure is not None:
            failed.append(
                {
                    "input": result.input,
                    "errors": [
                        {
                            "message": GraphErrorCode.BLOCK_USERS_FAILED.title,
                            "code": int(GraphErrorCode.BLOCK_USERS_FAILED),
                            "error_data": {"details": result.failure},
                        }
                    ],
                }
            )
            continue
        # The wa_id when the user was named by number; the BSUID when by BSUID (whatsapp-api-js's typings).
        item: dict[str, Any] = {"input": result.input}
        if result.user_id is not None:
            item["user_id"] = result.user_id
        else:
            item["wa_id"] = result.wa_id
        succeeded.append(item)
    answer: dict[str, Any] = {"messaging_product": "whatsapp", "block_users": {done: succeeded}}
    if failed:
        answer["block_users"]["failed_users"] = failed
        answer["errors"] = {
            "message": GraphErrorCode.BLOCK_USERS_FAILED.message,
            "type": "OAuthException",
            "code": int(GraphErrorCode.BLOCK_USERS_FAILED),
            "error_data": {"details": f"Failed to {verb} {len(failed)} of {len(results)} users."},
        }
    return answer


async def block(graph: GraphRequest) -> Response:
    results = block_users.block_users(graph.tenant, graph.node, parse_users(await graph.body()))
    return graph.respond(_render(results, "added_users", "block"))


async def unblock(graph: GraphRequest) -> Response:
    results = block_users.unblock_users(graph.tenant, graph.node, parse_users(await graph.body()))
    return graph.respond(_render(results, "removed_users", "unblock"))


async def list_blocked(graph: GraphRequest) -> Response:
    found = block_users.listed(graph.tenant, graph.node)
    items = []
    for user in found.users.values():
        # `input` as in a block's answer: pywa builds each listed user from it (Meta's example shows only wa_id).
        item = {"messaging_product": "whatsapp", "input": user.user_id or user.wa_id}
        item |= {"user_id": user.user_id} if user.user_id is not None else {"wa_id": user.wa_id}
        items.append(item)
    stale = GraphError(GraphErrorCode.BLOCKLIST_CONCURRENT_UPDATE)
    return graph.respond(page(items, graph.query, url=graph.page_url, version=found.version, stale=stale))


routes = [
    GraphRoute("phone_number", "block_users", "POST", block),
    GraphRoute("phone_number", "block_users", "DELETE", unblock),
    GraphRoute("phone_number", "block_users", "GET", list_blocked),
]
