"""Expectation steps: what the platform answered, sent by webhook, journaled and holds as tenant state.

Webhook expectations read the tenant's delivery log (`GET /_sandbox/tenants/{t}/webhooks`), which records every
webhook the platform emitted whether or not a receiver took it, so they work in-process and against a URL alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from scenarios.context import Context
from scenarios.model import Step, StepFailed
from scenarios.steps import RESPONSE_KEYS, check_response, step_kind
from scenarios.values import MISSING, ScenarioSyntaxError, lookup, match, render

WEBHOOK_KEYS = frozenset(
    {
        "wamid",
        "from",
        "field",
        "status",
        "where",
        "statuses",
        "messages",
        "order",
        "count",
        "none",
        "error",
        "delivered",
        "state",
        "attempts",
        "payload",
        "url",
    }
)
ORDERS = ("exactly", "in_order", "any_order")
DELIVERY_WAIT = 2.0


def webhook_events(deliveries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat record per status, inbound message or other change in the deliveries (oldest first)."""
    events: list[dict[str, Any]] = []
    for delivery in deliveries:
        try:
            payload = orjson.loads(delivery["body"])
        except (KeyError, orjson.JSONDecodeError):
            continue
        base = {
            "delivery": delivery.get("id"),
            "field": delivery.get("field"),
            "state": delivery.get("state"),
            "url": delivery.get("url"),
            "attempts": len(delivery.get("attempts", [])),
            "payload": payload,
        }
        for entry in payload.get("entry", []):
            for change in entry.get("changes", []):
                value = change.get("value", {})
                for status in value.get("statuses", []):
                    codes = [error.get("code") for error in status.get("errors", [])]
                    titles = [error.get("title", "") for error in status.get("errors", [])]
                    events.append(
                        base
                        | {
                            "kind": "status",
                            "wamid": status.get("id"),
                            "status": status.get("status"),
                            "to": status.get("recipient_id"),
                            "errors": codes,
                            "titles": titles,
                        }
                    )
                for message in value.get("messages", []):
                    events.append(
                        base
                        | {
                            "kind": "message",
                            "wamid": message.get("id"),
                            "from": message.get("from"),
                            "type": message.get("type"),
                        }
                    )
                if not value.get("statuses") and not value.get("messages"):
                    events.append(base | {"kind": "change", "value": value})
    return events


def _select(events: list[dict[str, Any]], args: dict[str, Any]) -> list[dict[str, Any]]:
    chosen = events
    if "wamid" in args:
        chosen = [e for e in chosen if e.get("wamid") == args["wamid"]]
    if "from" in args:
        chosen = [e for e in chosen if e.get("kind") == "message" and e.get("from") == str(args["from"]).lstrip("+")]
    if "field" in args:
        chosen = [e for e in chosen if e.get("field") == args["field"]]
    if "url" in args:
        # The app a change went to: each app of a tenant has its own callback URL (docs/migration.md).
        chosen = [e for e in chosen if e.get("url") == args["url"]]
    if "statuses" in args:
        chosen = [e for e in chosen if e.get("kind") == "status"]
    if "status" in args:
        chosen = [e for e in chosen if e.get("kind") == "status" and e.get("status") == args["status"]]
    if "messages" in args:
        chosen = [e for e in chosen if e.get("kind") == "message"]
    for path, wanted in (args.get("where") or {}).items():
        chosen = [e for e in chosen if not match(wanted, lookup(e["payload"], path))]
    return chosen


def _in_order(wanted: list[Any], actual: list[Any]) -> bool:
    remaining = iter(actual)
    return all(any(item == got for got in remaining) for item in wanted)


def _sequence(label: str, wanted: list[Any], actual: list[Any], order: str) -> list[str]:
    if order == "exactly":
        ok = [str(w) for w in wanted] == [str(a) for a in actual]
    elif order == "in_order":
        ok = _in_order([str(w) for w in wanted], [str(a) for a in actual])
    else:
        ok = sorted(map(str, wanted)) == sorted(map(str, actual))
    if ok:
        return []
    how = {"exactly": "exactly", "in_order": "in this order (others may come between)", "any_order": "in any order"}
    return [f"{label}: expected {how[order]} {render(wanted)}", f"{' ' * len(label)}  actual {render(actual)}"]


def check_webhooks(context: Context, args: dict[str, Any]) -> list[dict[str, Any]]:
    deliveries = list(reversed(context.fetch("/webhooks", limit=100000)["data"]))
    chosen = _select(webhook_events(deliveries), args)
    order = args.get("order", "exactly")
    problems: list[str] = []
    if "statuses" in args:
        problems += _sequence("statuses", list(args["statuses"]), [e["status"] for e in chosen], order)
    if "messages" in args:
        problems += _sequence("messages", list(args["messages"]), [e["type"] for e in chosen], order)
    if args.get("none"):
        problems += match(0, len(chosen), "count")
    if "count" in args:
        problems += match(args["count"], len(chosen), "count")
    if not chosen and not args.get("none") and "count" not in args and not problems:
        problems.append("no webhook matched")
    if "error" in args:
        codes = [code for e in chosen for code in e.get("errors", [])]
        wanted_code = args["error"].get("code") if isinstance(args["error"], dict) else args["error"]
        problems += (
            []
            if any(not match(wanted_code, code) for code in codes)
            else [f"error: expected a failed status with error {wanted_code}, got errors {render(codes)}"]
        )
    for event in chosen:
        where = f"{event['delivery']} ({event.get('status') or event.get('type') or event.get('field')})"
        if args.get("delivered") and event["state"] != "delivered":
            problems.append(f"{where}: expected delivered to the receiver, state is {event['state']}")
        if "state" in args:
            problems += match(args["state"], event["state"], f"{where} state")
        if "attempts" in args:
            problems += match(args["attempts"], event["attempts"], f"{where} attempts")
        for path, wanted in (args.get("payload") or {}).items():
            problems += match(wanted, lookup(event["payload"], path), f"{where} {path}")
    if problems:
        focus = args.get("wamid") if isinstance(args.get("wamid"), str) else None
        raise StepFailed(
            "the webhooks were not as expected",
            expected=args,
            actual=[_event_summary(e) for e in chosen],
            lines=problems,
            focus=focus,
        )
    return [e["payload"] for e in chosen]


def _event_summary(event: dict[str, Any]) -> str:
    if event["kind"] == "status":
        errors = f" error {event['errors'][0]} {event['titles'][0]}" if event["errors"] else ""
        count = event["attempts"]
        return f"{event['status']}{errors} ({event['state']}, {count} attempt{'' if count == 1 else 's'})"
    if event["kind"] == "message":
        return f"message {event['type']} from {event['from']} ({event['state']})"
    return f"{event['field']} ({event['state']})"


@step_kind(
    "expect_webhooks",
    "webhooks emitted, in order: {wamid | from | field | status, statuses | messages, "
    "order?, error?, count?, delivered?, state?, attempts?, payload?, where?, url?}",
)
def expect_webhooks(context: Context, step: Step, args: Any) -> Any:
    if not isinstance(args, dict):
        raise ScenarioSyntaxError("expect_webhooks takes a mapping")
    unknown = set(args) - WEBHOOK_KEYS
    if unknown:
        raise ScenarioSyntaxError(f"expect_webhooks does not know {', '.join(sorted(unknown))}")
    if args.get("order", "exactly") not in ORDERS:
        raise ScenarioSyntaxError(f"order must be one of {', '.join(ORDERS)}")
    waits_on_receiver = any(key in args for key in ("delivered", "state", "attempts"))
    within = (
        step.within if step.within is not None else (max(context.wait, DELIVERY_WAIT) if waits_on_receiver else None)
    )
    return context.poll(lambda: check_webhooks(context, args), within)


def _find_message(context: Context, wamid: str) -> dict[str, Any]:
    for message in context.fetch("/messages", limit=100000)["data"]:
        if message["id"] == wamid:
            return dict(message)
    raise StepFailed(f"no message {wamid} in the tenant's journal", focus=wamid)


@step_kind("expect_message", "one message in the journal: {id, status?, error?, history?: [...], <field>: matcher}")
def expect_message(context: Context, step: Step, args: Any) -> Any:
    if not isinstance(args, dict) or "id" not in args:
        raise ScenarioSyntaxError("expect_message needs id: (a wamid, e.g. $msg)")

    def check() -> dict[str, Any]:
        message = _find_message(context, str(args["id"]))
        problems: list[str] = []
        for key, wanted in args.items():
            if key == "id":
                continue
            if key == "history":
                problems += match(wanted, [h["status"] for h in message["history"]], "history")
            elif key == "error":
                problems += match(wanted, lookup(message, "errors[0].code"), "error")
            else:
                problems += match(wanted, lookup(message, key), key)
        if problems:
            raise StepFailed(
                f"message {args['id']} is not as expected",
                expected=args,
                actual=message,
                lines=problems,
                focus=str(args["id"]),
            )
        return message

    return context.poll(check, step.within)


MESSAGE_FILTERS = ("to", "direction", "status")


@step_kind("expect_messages", "messages in the journal: {to?, direction?, status?, where?: {path: matcher}, count?}")
def expect_messages(context: Context, step: Step, args: Any) -> Any:
    args = args if isinstance(args, dict) else {}

    def check() -> list[dict[str, Any]]:
        params = {key: str(args[key]) for key in MESSAGE_FILTERS if key in args}
        found = list(reversed(context.fetch("/messages", limit=100000, **params)["data"]))
        for path, wanted in (args.get("where") or {}).items():
            found = [m for m in found if not match(wanted, lookup(m, path))]
        return _counted(
            args,
            found,
            "message",
            "the messages in the journal are not as expected",
            lambda m: f"{m['direction']} {m['type']} {m['wa_id']} {m['status']}",
        )

    return context.poll(check, step.within)


def _counted(
    args: dict[str, Any],
    found: list[dict[str, Any]],
    noun: str,
    headline: str,
    describe: Callable[[dict[str, Any]], str],
) -> list[dict[str, Any]]:
    """`found` when it matches `count` (or, without one, is not empty); otherwise a failure listing what was found."""
    problems = (
        match(args["count"], len(found), "count")
        if "count" in args
        else ([] if found else [f"count: expected at least one {noun}, found none"])
    )
    if problems:
        raise StepFailed(headline, expected=args, actual=[describe(item) for item in found], lines=problems)
    return found


@step_kind("expect_state", "the tenant's state (GET .../state): {path: matcher, ...}")
def expect_state(context: Context, step: Step, args: Any) -> Any:
    if not isinstance(args, dict):
        raise ScenarioSyntaxError("expect_state takes {path: expected value}")

    def check() -> Any:
        state = context.fetch("/state")
        problems: list[str] = []
        for path, wanted in args.items():
            problems += match(wanted, lookup(state, path), path)
        if problems:
            actual = {path: lookup(state, path) for path in args}
            raise StepFailed(
                "the tenant's state is not as expected",
                expected=args,
                actual={k: (None if v is MISSING else v) for k, v in actual.items()},
                lines=problems,
            )
        return state

    return context.poll(check, step.within)


@step_kind(
    "expect_requests", "Graph calls the tenant received: {method?, path?: substring, status?, error_code?, count?}"
)
def expect_requests(context: Context, step: Step, args: Any) -> Any:
    args = args if isinstance(args, dict) else {}

    def check() -> list[dict[str, Any]]:
        found = list(reversed(context.fetch("/requests", limit=100000)["data"]))
        if "path" in args:
            found = [r for r in found if str(args["path"]) in r["path"]]
        for key in ("method", "status", "error_code"):
            if key in args:
                found = [r for r in found if not match(args[key], r.get(key))]
        return _counted(
            args,
            found,
            "request",
            "the Graph requests are not as expected",
            lambda r: f"{r['method']} {r['path']} → {r['status']}",
        )

    return context.poll(check, step.within)


@step_kind("expect", "the previous call's answer: {status?, error?, body?: {path: matcher}}")
def expect_last(context: Context, step: Step, args: Any) -> Any:
    if not isinstance(args, dict) or set(args) - RESPONSE_KEYS:
        raise ScenarioSyntaxError(f"expect takes {', '.join(sorted(RESPONSE_KEYS))}")
    if context.last is None:
        raise StepFailed("expect: no call has been made yet")
    return check_response(context.last, args)
