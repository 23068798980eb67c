"""Business verification and the WABA's appeal on the control plane: Meta takes both outside the Graph API
(Business Manager's Security Center, Business Support Home), so a test does them here.

- `GET|POST /_sandbox/tenants/{tenant}/business/verification`: the verification; submit the documents.
- `POST /_sandbox/tenants/{tenant}/business/verification/{start|expire|revoke|make_ineligible}`: a move by hand.
- `POST /_sandbox/tenants/{tenant}/wabas/{waba_id}/appeal`: appeal a rejected WABA review.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from sandbox.control.common import json_body, respond, tenant_of
from sandbox.control.parse import Fields
from sandbox.control.routing import ControlRoute as Route
from sandbox.domain.business import Documents
from sandbox.domain.commands import SubmitVerification
from sandbox.domain.errors import Invalid
from sandbox.services import verification, waba_review

DOCUMENT_KEYS = ("identity_document", "business_email", "phone_number")
MAX_DOCUMENT = 1024
MAX_EMAIL = 254  # RFC 5321's longest path
# Plausible, not RFC 5322: one @, a dot in the domain, no spaces.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]*$")
_DIGITS = re.compile(r"[0-9]")


def parse_submission(body: Fields) -> SubmitVerification:
    body.only(("documents",))
    documents = body.object(
        "documents", required=True, what="an object of identity_document, business_email, phone_number"
    )
    assert documents is not None
    documents.only(DOCUMENT_KEYS)
    missing = [key for key in DOCUMENT_KEYS if not documents.has(key)]
    if missing:
        raise Invalid(f"documents is missing {', '.join(missing)} (SEED-VERIFY-1 asks for all three)")
    identity = documents.text("identity_document", max_length=MAX_DOCUMENT, required=True)
    email = documents.text(
        "business_email", max_length=MAX_EMAIL, required=True, pattern=_EMAIL, what="a plausible e-mail address"
    )
    phone = documents.text(
        "phone_number", max_length=32, required=True, pattern=_PHONE, what="a phone number of 7 to 15 digits"
    )
    assert identity is not None and email is not None and phone is not None
    if not 7 <= len(_DIGITS.findall(phone)) <= 15:
        raise Invalid("documents.phone_number must be a phone number of 7 to 15 digits")
    if not identity.strip():
        raise Invalid("documents.identity_document must not be blank")
    return SubmitVerification(Documents(identity, email, phone))


async def get_verification(request: Request) -> Response:
    return respond(verification.document(tenant_of(request)))


def documents_as_object(body: object) -> object:
    """control-plane.md writes `documents` as a list; `[{"type": "business_email", "value": "..."}, ...]` is read
    as the object `{"business_email": "...", ...}` (anything else is left for the parser to refuse)."""
    if not isinstance(body, dict) or not isinstance(body.get("documents"), list):
        return body
    items = body["documents"]
    if len(items) > len(DOCUMENT_KEYS) or not all(
        isinstance(item, dict) and set(item) == {"type", "value"} and isinstance(item["type"], str) for item in items
    ):
        return body
    return body | {"documents": {item["type"]: item["value"] for item in items}}


async def submit_verification(request: Request) -> Response:
    tenant = tenant_of(request)
    command = parse_submission(Fields(documents_as_object(await json_body(request, required=True))))
    verification.submit(tenant, command)
    return respond(verification.document(tenant), 202)


async def move_verification(request: Request) -> Response:
    tenant = tenant_of(request)
    verification.move(tenant, request.path_params["trigger"])
    return respond(verification.document(tenant))


async def appeal(request: Request) -> Response:
    tenant = tenant_of(request)
    pending = waba_review.appeal(tenant, request.path_params["waba_id"])
    return respond(pending.document(), 202)


routes = [
    Route("/_sandbox/tenants/{tenant}/business/verification", get_verification, methods=["GET"]),
    Route(
        "/_sandbox/tenants/{tenant}/business/verification",
        submit_verification,
        methods=["POST"],
        body=parse_submission,
        body_required=True,
        status=202,
    ),
    Route(
        "/_sandbox/tenants/{tenant}/business/verification/{trigger}",
        move_verification,
        methods=["POST"],
        parameters={"trigger": {"enum": list(verification.MANUAL_TRIGGERS)}},
    ),
    Route("/_sandbox/tenants/{tenant}/wabas/{waba_id}/appeal", appeal, methods=["POST"], status=202),
]
