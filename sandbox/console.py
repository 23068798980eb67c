"""One readable line per Graph call and per webhook delivery attempt, for whoever watches `wa-sandbox serve`.

    20:31:02  default  POST /v23.0/1234/messages  200  wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5...
    20:31:02  default  POST /v23.0/1234/messages  400  #131030 Recipient phone number not in allowed list
    20:31:02  default  → webhook status delivered  200  attempt 1  12 ms

A call only appends a tuple: lines are formatted and written together, one `write` every 0.1 s (or as soon as 500
wait), ~1.6 µs per line in all (measured, 20,000 lines). Off (`--quiet`, the test fixtures, load runs: nothing is
attached), a call costs one attribute test.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any, TextIO

from sandbox.errors import GraphErrorCode

if TYPE_CHECKING:
    from sandbox.context import Sandbox
    from sandbox.webhooks.outbox import Attempt, Delivery

# How long a line may wait for its batch, and how many may wait before they are written at once.
FLUSH_SECONDS = 0.1
FLUSH_LINES = 500
_WAMID = b'"id":"wamid.'


class Console:
    """Lines buffered and written to `stream` in batches; `attach` makes a sandbox report to it."""

    def __init__(self, stream: TextIO, flush_seconds: float = FLUSH_SECONDS) -> None:
        self.stream = stream
        self.flush_seconds = flush_seconds
        self._pending: list[tuple[Any, ...]] = []
        self._timer: asyncio.TimerHandle | None = None

    def attach(self, sandbox: Sandbox) -> Console:
        sandbox.console = self
        sandbox.outbox.console = self
        return self

    def graph_call(
        self, tenant: str | None, method: str, path: str, status: int, code: int | None, response: Any = None
    ) -> None:
        """`response`: the answer of a successful call, read for a wamid only when the line is written."""
        self._add(("graph", time.time(), tenant or "-", method, path, status, code, response))

    def webhook(self, tenant: str, delivery: Delivery, attempt: Attempt) -> None:
        self._add(("webhook", time.time(), tenant, delivery.summary, attempt, len(delivery.attempts)))

    def _add(self, entry: tuple[Any, ...]) -> None:
        self._pending.append(entry)
        if len(self._pending) >= FLUSH_LINES:
            self.flush()
        elif self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(self.flush_seconds, self.flush)
            except RuntimeError:  # no event loop: a call from plain Python is written at once
                self.flush()

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        pending, self._pending = self._pending, []
        if not pending:
            return
        stamps: dict[int, str] = {}
        text = "".join(format_entry(entry, stamps) + "\n" for entry in pending)
        # A closed or broken stdout must not break the server: the lines are only for watching.
        with contextlib.suppress(OSError, ValueError):
            self.stream.write(text)
            self.stream.flush()


def format_entry(entry: tuple[Any, ...], stamps: dict[int, str] | None = None) -> str:
    """The line of one recorded entry; `stamps` keeps the `HH:MM:SS` of each second already formatted."""
    second = int(entry[1])
    stamp = stamps.get(second) if stamps is not None else None
    if stamp is None:
        stamp = time.strftime("%H:%M:%S", time.localtime(second))
        if stamps is not None:
            stamps[second] = stamp
    if entry[0] == "graph":
        _, _, tenant, method, path, status, code, response = entry
        body = getattr(response, "body", None)
        detail = _graph_detail(status, code, body)
        return f"{stamp}  {_shown(tenant)}  {_shown(method)} {_shown(path)}  {status}{detail}"
    _, _, tenant, summary, attempt, number = entry
    outcome = str(attempt.status_code) if attempt.status_code is not None else _shown(attempt.error or "failed")
    return f"{stamp}  {_shown(tenant)}  → webhook {summary}  {outcome}  attempt {number}  {attempt.latency_ms:.0f} ms"


def _shown(text: str) -> str:
    """`text` with control characters escaped: a caller's path must not forge a line or drive the terminal."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def _graph_detail(status: int, code: int | None, body: bytes | None) -> str:
    if code is not None:
        title = GraphErrorCode(code).title if code in GraphErrorCode._value2member_map_ else ""
        return f"  #{code} {title}".rstrip()
    if status == 0:
        return "  connection dropped (fault)"
    start = body.find(_WAMID) if isinstance(body, bytes) else -1
    if start < 0:
        return ""
    start += len(_WAMID) - len(b"wamid.")
    end = body.find(b'"', start)
    return "  " + body[start:end].decode("ascii", "replace") if end > start else ""
