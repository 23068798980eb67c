"""The step vocabulary: a registry of step kinds, the two generic calls (`graph`, `control`) and friendly sugar.

A new lifecycle (template review, number onboarding, migration ...) adds its steps here or in its own module with
`@step_kind(...)`, and adds them to `schema.json`; the runner, the loader and the reports do not change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from sandbox.domain.errors import is_integer
from sandbox.domain.message import INBOUND_TYPES, OUTBOUND_TYPES
from scenarios.context import Context
from scenarios.model import Step, StepFailed
from scenarios.values import MISSING, ScenarioSyntaxError, lookup, match, parse_duration, render

Handler = Callable[[Context, Step, Any], Any]


@dataclass(frozen=True, slots=True)
class StepKind:
    """`call` steps answer with an HTTP response: their `expect:` reads it, and without one they must succeed."""

    name: str
    run: Handler
    doc: str
    call: bool = False
    requires: tuple[str, ...] = ()
    substitute: bool = True


STEPS: dict[str, StepKind] = {}


def step_kind(
    name: str, doc: str, *, call: bool = False, requires: tuple[str, ...] = (), substitute: bool = True
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        STEPS[name] = StepKind(name, handler, doc, call, requires, substitute)
        return handler

    return register


def need(args: Any, key: str, step: str) -> Any:
    if not isinstance(args, dict) or key not in args:
        raise ScenarioSyntaxError(f"{step} needs {key}: (got {render(args)})")
    return args[key]


def _object(args: Any, step: str) -> dict[str, Any]:
    if not isinstance(args, dict):
        raise ScenarioSyntaxError(f"{step} takes a mapping, got {render(args)}")
    return args


def _phone(value: Any) -> str:
    return str(value) if is_integer(value) else value


# -- response checks for call steps ------------------------------------------------------------------------------

RESPONSE_KEYS = frozenset({"status", "error", "body"})


def body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def check_response(response: httpx.Response, expect: dict[str, Any] | None) -> Any:
    """Compare a response with `expect` (`status`, `error`, `body: {path: matcher}`); raise `StepFailed`."""
    expect = expect or {}
    body = body_of(response)
    problems: list[str] = []
    status, error = expect.get("status"), expect.get("error")
    if status is not None:
        problems += match(status, response.status_code, "status")
    elif error is None and not 200 <= response.status_code < 300:
        problems.append(f"status: expected a success (2xx), got {response.status_code}")
    elif error is not None and 200 <= response.status_code < 300:
        problems.append(f"status: expected an error, got {response.status_code}")
    if error is not None:
        problems += _check_error(error, body)
    for path, wanted in (expect.get("body") or {}).items():
        problems += match(wanted, lookup(body, path), path)
    if problems:
        actual = {"status": response.status_code, "body": body}
        raise StepFailed(
            f"{response.request.method} {response.request.url.path} answered {response.status_code}",
            expected=expect or {"status": "2xx"},
            actual=actual,
            lines=problems,
        )
    return body


def _check_error(error: Any, body: Any) -> list[str]:
    wanted = {"code": error} if not isinstance(error, dict) else dict(error)
    envelope = body.get("error") if isinstance(body, dict) else None
    if not isinstance(envelope, dict):
        return [f'error: expected Meta\'s error envelope {{"error": {{...}}}}, got {render(body)}']
    problems = [
        f"error.{key}: missing from the envelope"
        for key in ("message", "type", "code", "fbtrace_id")
        if key not in envelope
    ]
    if "details" in wanted:
        problems += match(wanted.pop("details"), lookup(envelope, "error_data.details"), "error.error_data.details")
    if "subcode" in wanted:
        wanted["error_subcode"] = wanted.pop("subcode")
    for key, value in wanted.items():
        problems += match(value, envelope.get(key, MISSING), f"error.{key}")
    return problems


# -- the generic calls -------------------------------------------------------------------------------------------


@step_kind(
    "graph", "any Graph API call: {method, path, body?, params?, token?}; path may use $phone_number_id", call=True
)
def graph(context: Context, step: Step, args: Any) -> httpx.Response:
    args = _object(args, "graph")
    return context.graph(
        str(args.get("method", "GET")),
        str(need(args, "path", "graph")),
        args.get("body"),
        args.get("params"),
        args.get("token"),
    )


@step_kind(
    "control", "any control-plane call: {method, path (relative to the tenant, or /_sandbox/...), body?}", call=True
)
def control(context: Context, step: Step, args: Any) -> httpx.Response:
    args = _object(args, "control")
    return context.control(
        str(args.get("method", "GET")), str(need(args, "path", "control")), args.get("body"), args.get("params")
    )


# -- Graph sugar -------------------------------------------------------------------------------------------------

SEND_KEYS = frozenset(
    {
        *OUTBOUND_TYPES,
        "to",
        "type",
        "reply_to",
        "phone_number_id",
        "biz_opaque_callback_data",
        "recipient_type",
        "fields",
    }
)


def message_body(args: dict[str, Any]) -> dict[str, Any]:
    """The JSON of `POST /{phone-number-id}/messages` from the `send` step's friendly form."""
    unknown = set(args) - SEND_KEYS
    if unknown:
        raise ScenarioSyntaxError(f"send does not know {', '.join(sorted(unknown))}; use graph: for raw bodies")
    types = [key for key in OUTBOUND_TYPES if key in args]
    message_type = args.get("type") or (types[0] if len(types) == 1 else None)
    if message_type is None:
        raise ScenarioSyntaxError(
            f"send needs one message of {', '.join(OUTBOUND_TYPES)} (or type:); got {render(args)}"
        )
    content = args.get(message_type)
    if message_type == "text" and isinstance(content, str):
        content = {"body": content}
    elif message_type == "template":
        content = _template(content)
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": args.get("recipient_type", "individual"),
        "to": _phone(need(args, "to", "send")),
        "type": message_type,
    }
    if content is not None:
        body[message_type] = content
    if "reply_to" in args:
        body["context"] = {"message_id": args["reply_to"]}
    if "biz_opaque_callback_data" in args:
        body["biz_opaque_callback_data"] = args["biz_opaque_callback_data"]
    body.update(args.get("fields") or {})
    return body


def _template(content: Any) -> dict[str, Any]:
    if isinstance(content, str):
        return {"name": content, "language": {"code": "en_US"}}
    if not isinstance(content, dict) or "name" not in content:
        raise ScenarioSyntaxError("template is a name or {name, language?, body?: [texts], components?}")
    template = {key: value for key, value in content.items() if key not in ("body", "header")}
    language = template.get("language", "en_US")
    template["language"] = {"code": language} if isinstance(language, str) else language
    components = list(template.get("components") or [])
    for part in ("header", "body"):
        if part in content:
            parameters = [
                value if isinstance(value, dict) else {"type": "text", "text": str(value)} for value in content[part]
            ]
            components.append({"type": part, "parameters": parameters})
    if components:
        template["components"] = components
    return template


@step_kind("send", "send a message: {to, text | template | image | ... , reply_to?, phone_number_id?}", call=True)
def send(context: Context, step: Step, args: Any) -> httpx.Response:
    args = _object(args, "send")
    phone = args.get("phone_number_id") or context.tenant.get("phone_number_id")
    return context.graph("POST", f"{phone}/messages", message_body(args))


@step_kind("mark_read", "the business marks an inbound message read: $wamid or {message, typing?}", call=True)
def mark_read(context: Context, step: Step, args: Any) -> httpx.Response:
    message = args.get("message") if isinstance(args, dict) else args
    body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": message}
    if isinstance(args, dict) and args.get("typing"):
        body["typing_indicator"] = {"type": "text"}
    return context.graph("POST", f"{context.tenant.get('phone_number_id')}/messages", body)


# -- customers ---------------------------------------------------------------------------------------------------


def inbound_body(args: dict[str, Any]) -> dict[str, Any]:
    """The control plane's `inbound` body from `customer_writes`' friendly form."""
    args = dict(args)
    body: dict[str, Any] = {"from": _phone(need(args, "from", "customer_writes"))}
    if "button_reply" in args or "list_reply" in args:
        kind = "button_reply" if "button_reply" in args else "list_reply"
        args["interactive"] = {"type": kind, kind: args.pop(kind)}
    if isinstance(args.get("button"), str):
        args["button"] = {"payload": args["button"], "text": args["button"]}
    types = [key for key in sorted(INBOUND_TYPES) if key in args]
    message_type = args.get("type") or (types[0] if len(types) == 1 else None)
    if message_type is None:
        raise ScenarioSyntaxError(
            f"customer_writes needs one of {', '.join(sorted(INBOUND_TYPES))}; got {render(args)}"
        )
    content = args.get(message_type, {})
    body["type"] = message_type
    body[message_type] = {"body": content} if message_type == "text" and isinstance(content, str) else content
    if "reply_to" in args:
        body["context"] = {"message_id": args["reply_to"]}
    if "profile_name" in args:
        body["profile"] = {"name": args["profile_name"]}
    if "phone_number_id" in args:
        body["phone_number_id"] = args["phone_number_id"]
    return body


@step_kind(
    "customer_writes",
    "a customer writes in: {from, text | image | button | button_reply | list_reply | "
    "location | ..., reply_to?, profile_name?}",
    call=True,
)
def customer_writes(context: Context, step: Step, args: Any) -> httpx.Response:
    return context.control("POST", "/inbound", inbound_body(_object(args, "customer_writes")))


@step_kind("customer_reacts", "a customer reacts to a message: {from, message, emoji}", call=True)
def customer_reacts(context: Context, step: Step, args: Any) -> httpx.Response:
    args = _object(args, "customer_reacts")
    reaction = {"message_id": need(args, "message", "customer_reacts"), "emoji": args.get("emoji", "👍")}
    return context.control(
        "POST",
        "/inbound",
        {"from": _phone(need(args, "from", "customer_reacts")), "type": "reaction", "reaction": reaction},
    )


@step_kind(
    "customer", "a customer's habits: {wa_id, on_whatsapp?, delivery?, reads?, blocked_business?, ...}", call=True
)
def customer(context: Context, step: Step, args: Any) -> httpx.Response:
    args = dict(_object(args, "customer"))
    wa_id = _phone(args.pop("wa_id", None) or need(args, "wa_id", "customer"))
    return context.control("PUT", f"/customers/{wa_id}", args)


def _move(action: str) -> Handler:
    def run(context: Context, step: Step, args: Any) -> httpx.Response:
        wamid = args.get("message") if isinstance(args, dict) else args
        body = {key: value for key, value in args.items() if key != "message"} if isinstance(args, dict) else {}
        return context.control("POST", f"/messages/{wamid}/{action}", body)

    return run


step_kind("deliver", "the platform delivers a message now (manual progression): $wamid", call=True)(_move("deliver"))
step_kind("read", "the customer reads a message now (manual progression): $wamid", call=True)(_move("read"))
step_kind("fail", "a message fails now: {message, code, details?}", call=True)(_move("fail"))


# -- time, policy, faults, webhooks, reviews --------------------------------------------------------------------


@step_kind("advance", "move the tenant clock: 31d | 25h | 90s | {seconds} | {to: RFC 3339}", call=True)
def advance(context: Context, step: Step, args: Any) -> httpx.Response:
    """One `clock/advance`: the server fires everything due on the way in time order, and lets each webhook
    attempt happen before moving on, so a 7-day advance plays out a whole retry schedule."""
    context.settle()
    if isinstance(args, dict) and "to" in args:
        body: dict[str, Any] = {"to": args["to"]}
    else:
        body = {"seconds": parse_duration(args.get("seconds") if isinstance(args, dict) else args)}
    response = context.control("POST", "/clock/advance", body)
    context.settle()
    return response


@step_kind("clock", "set the tenant clock: {now?, mode?: frozen | realtime, rate?}", call=True)
def clock(context: Context, step: Step, args: Any) -> httpx.Response:
    return context.control("POST", "/clock", _object(args, "clock"))


@step_kind("policy", "change policy knobs: {progression: manual, read_probability: 0, ...}", call=True)
def policy(context: Context, step: Step, args: Any) -> httpx.Response:
    return context.control("PATCH", "/policy", _object(args, "policy"))


@step_kind(
    "snapshot",
    "save the tenant's world under a name, or restore a named snapshot: {save: NAME} | {restore: NAME}",
    call=True,
)
def snapshot(context: Context, step: Step, args: Any) -> httpx.Response:
    args = _object(args, "snapshot")
    if set(args) == {"save"}:
        return context.control("POST", "/_sandbox/snapshots", {"name": args["save"], "tenant": context.tenant["id"]})
    if set(args) != {"restore"}:
        raise ScenarioSyntaxError(f"snapshot takes one of save: NAME or restore: NAME, got {render(args)}")
    response = context.control("POST", f"/_sandbox/snapshots/{args['restore']}/restore")
    if response.status_code == 200:
        restored = body_of(response)
        documents = restored.get("data", [restored]) if isinstance(restored, dict) else []
        # The scenario goes on with its own tenant if the snapshot holds it, else with the one restored.
        same = [doc for doc in documents if doc.get("id") == context.tenant["id"]]
        if same or documents:
            context.tenant = (same or documents)[0]
    return response


@step_kind(
    "fault",
    "inject a fault: {match, error?: {code}, http_status?, latency_ms?, times?, probability?}",
    call=True,
    requires=("faults",),
)
def fault(context: Context, step: Step, args: Any) -> httpx.Response:
    args = dict(_object(args, "fault"))
    if isinstance(args.get("error"), int):
        args["error"] = {"code": args["error"]}
    return context.control("POST", "/faults", args)


@step_kind("webhook", "set the callback (app dashboard): {url, verify_token?, verify?}", call=True)
def webhook(context: Context, step: Step, args: Any) -> httpx.Response:
    return context.control("PUT", "/webhook", _object(args, "webhook"))


@step_kind(
    "review",
    "a Meta reviewer decides: {kind, target, decision: APPROVED | REJECTED, reason?}",
    call=True,
    requires=("reviews",),
)
def review(context: Context, step: Step, args: Any) -> httpx.Response:
    return context.control("POST", "/reviews", _object(args, "review"))


@step_kind(
    "receiver", "the webhook receiver answers every POST with {status} (in-process runs only)", requires=("receiver",)
)
def receiver(context: Context, step: Step, args: Any) -> dict[str, Any]:
    status = args.get("status") if isinstance(args, dict) else args
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise ScenarioSyntaxError(f"receiver needs an HTTP status, got {render(args)}")
    if context.receiver is None:
        raise StepFailed("receiver: this run does not control the webhook receiver (it needs an in-process run)")
    context.settle()
    context.receiver.set(status)
    return {"status": status}


@step_kind("set", "define variables: {name: value, ...}")
def set_variables(context: Context, step: Step, args: Any) -> dict[str, Any]:
    context.variables.update(_object(args, "set"))
    return dict(args)
