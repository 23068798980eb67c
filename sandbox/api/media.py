"""Media: upload (`POST /{phone-number-id}/media`), URL (`GET /{media-id}`), delete, and the download URL."""

from __future__ import annotations

import mimetypes

from starlette.requests import Request
from starlette.responses import Response

from sandbox.api.error_handlers import json_response
from sandbox.api.graph import GraphRequest, GraphRoute, access_token
from sandbox.errors import GraphError, GraphErrorCode, invalid_parameter
from sandbox.services import media


async def upload_media(graph: GraphRequest) -> Response:
    params = await graph.body()
    upload = await graph.upload("file")
    if not isinstance(params, dict) or "messaging_product" not in params:
        raise GraphError(
            GraphErrorCode.INVALID_PARAMETER, None, message="(#100) The parameter messaging_product is required."
        )
    if upload is None:
        raise GraphError(GraphErrorCode.INVALID_PARAMETER, None, message="(#100) The parameter file is required.")
    mime_type = _mime_type(upload.content_type, str(params.get("type") or ""), upload.filename)
    data = await upload.read()
    uploaded = media.upload_media(graph.tenant, graph.node_id, mime_type, data, upload.filename)
    return graph.respond({"id": uploaded.id})


def _mime_type(part_type: str | None, type_field: str, filename: str | None) -> str:
    """The part's Content-Type is what Meta validates; some clients send `type=image` or no type at all."""
    if part_type and part_type != "application/octet-stream":
        return part_type
    if "/" in type_field:
        return type_field
    guessed = mimetypes.guess_type(filename or "")[0]
    return guessed or part_type or "application/octet-stream"


async def retrieve_media_url(graph: GraphRequest) -> Response:
    found, expires, url_hash = media.retrieve_media_url(graph.tenant, graph.node_id, graph.query.get("phone_number_id"))
    base = str(graph.request.base_url).rstrip("/")
    return graph.respond(
        {
            "messaging_product": "whatsapp",
            "url": f"{base}/whatsapp_business/attachments/?mid={found.id}&ext={expires}&hash={url_hash}",
            "mime_type": found.mime_type,
            "sha256": found.sha256,
            "file_size": found.file_size,
            "id": found.id,
        }
    )


async def delete_media(graph: GraphRequest) -> Response:
    media.delete_media(graph.tenant, graph.node_id, graph.query.get("phone_number_id"))
    return graph.respond({"success": True})


async def download_media(request: Request) -> Response:
    """The lookaside URL: bytes with the Bearer token, 404 when expired or wrong (META-MEDIA §7.3)."""
    sandbox = request.app.state.sandbox
    token = access_token(request)
    tenant = sandbox.tenant_for_token(token) if token else None
    if tenant is None:
        return json_response(
            invalid_parameter("An access token is required").envelope(sandbox.ids.fbtrace_id()), status=401
        )
    q = request.query_params
    found = media.download_media(tenant, q.get("mid", ""), q.get("ext", ""), q.get("hash", ""))
    if found is None or found.data is None:
        return Response(b"", status_code=404)
    return Response(found.data, media_type=found.mime_type.split(";")[0])


routes = [
    GraphRoute("phone_number", "media", "POST", upload_media),
    GraphRoute("media", None, "GET", retrieve_media_url),
    GraphRoute("media", None, "DELETE", delete_media),
]
