"""`wa-sandbox check-webhook URL`: grade a webhook receiver the way Meta will treat it.

The battery: the verification handshake with the right and a wrong verify token, a correctly signed payload, a
wrongly signed and an unsigned one, the same payload twice, a message's statuses out of order, several changes in
one POST, and a burst. Payloads are rendered by the sandbox's own renderers, so they are Meta's shapes, signed over
Meta's `\\u`-escaped bytes. The report says what the receiver did right and wrong, and how fast it answered.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import aiohttp

from sandbox.clock import monotonic
from sandbox.domain.customer import Customer
from sandbox.domain.events import MessageReceived, MessageStatusChanged
from sandbox.domain.message import Message, MessageStatus, Pricing
from sandbox.domain.phone_number import PhoneNumber
from sandbox.ids import IdFactory
from sandbox.webhooks.payloads import Rendered, payload, render_inbound, render_status
from sandbox.webhooks.signing import meta_json, signed_headers

Verdict = Literal["pass", "fail", "warn", "skip"]
# Meta expects a median answer within 250 ms and fewer than 1% over 1 s (META-TP).
FAST_MS = 250.0
SLOW_MS = 1000.0


@dataclass(slots=True)
class Check:
    name: str
    verdict: Verdict
    detail: str


class Unreachable(Exception):
    """Nothing answers at the URL: one line says so instead of a battery of identical connection errors."""


@dataclass(slots=True)
class Report:
    url: str
    checks: list[Check] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    # Why checks were skipped (the flags not given), in the order met.
    missing: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.verdict != "fail" for check in self.checks)

    @property
    def complete(self) -> bool:
        return all(check.verdict != "skip" for check in self.checks)

    def add(self, name: str, verdict: Verdict, detail: str) -> None:
        self.checks.append(Check(name, verdict, detail))

    def render(self) -> str:
        marks = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "skip": "SKIP"}
        lines = [f"Webhook receiver check: {self.url}", ""]
        width = max((len(check.name) for check in self.checks), default=10)
        lines += [f"  {marks[c.verdict]}  {c.name.ljust(width)}  {c.detail}" for c in self.checks]
        if self.latencies_ms:
            ordered = sorted(self.latencies_ms)
            p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
            lines += [
                "",
                f"  answers: {len(ordered)}, median {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms, "
                f"max {ordered[-1]:.1f} ms",
            ]
        counts = {verdict: sum(1 for c in self.checks if c.verdict == verdict) for verdict in marks}
        if not self.passed:
            verdict = "NOT READY for Meta"
        elif not self.complete:
            verdict = "INCOMPLETE"
        else:
            verdict = "OK"
        lines += [
            "",
            f"  {counts['pass']} passed, {counts['fail']} failed, {counts['warn']} warnings, "
            f"{counts['skip']} skipped: {verdict}",
        ]
        if not self.complete:
            lines.append(
                f"  {counts['skip']} check(s) skipped, not run, because no {' and no '.join(self.missing)} was given: "
                "pass them, or --allow-skipped to accept a partial check"
            )
        return "\n".join(lines)


class _Fixtures:
    """Meta-shaped payloads for a made-up business number and customer, from a fixed seed."""

    def __init__(self, seed: int) -> None:
        self.ids = IdFactory(random.Random(seed))
        self.phone = PhoneNumber(self.ids.node_id(), self.ids.node_id(), "15550783881", "Lucky Shrub", "1")
        self.customer = Customer("16505551234", "Sheena Nelson", self.ids.user_id("US"))
        self.at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def outbound(self) -> Message:
        message = Message(
            wamid=self.ids.wamid(self.customer.wa_id),
            direction="outbound",
            phone_number_id=self.phone.id,
            wa_id=self.customer.wa_id,
            type="text",
            content={"body": "Your order has shipped"},
            created_at=self.at,
        )
        message.pricing = Pricing(
            "service", "free_customer_service", False, self.ids.conversation_id(), self.at + timedelta(hours=24)
        )
        return message

    def status(self, message: Message, status: MessageStatus, seconds: int = 0) -> Rendered:
        at = self.at + timedelta(seconds=seconds)
        message.history.append((status.value, at))
        return render_status(MessageStatusChanged(message, status.value, at), self.phone, self.customer, "v23.0")

    def inbound(self, text: str) -> Rendered:
        message = Message(
            wamid=self.ids.wamid(self.customer.wa_id, outbound=False),
            direction="inbound",
            phone_number_id=self.phone.id,
            wa_id=self.customer.wa_id,
            type="text",
            content={"body": text},
            created_at=self.at,
        )
        event = MessageReceived(message, self.customer.profile_name, self.customer.user_id, self.at)
        return render_inbound(event, self.phone, self.customer)


class Grader:
    def __init__(
        self, url: str, app_secret: str | None, verify_token: str | None, *, burst: int, timeout: float, seed: int = 0
    ) -> None:
        self.url = url
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.burst = burst
        self.timeout = timeout
        self.fixtures = _Fixtures(seed)
        self.rng = random.Random(seed)
        self.report = Report(url)

    async def run(self) -> Report:
        self.report.missing = [
            flag
            for flag, value in (("--verify-token", self.verify_token), ("--app-secret", self.app_secret))
            if not value
        ]
        connector = aiohttp.TCPConnector(limit=64)
        async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:
            self.session = session
            await self._reachable()
            await self._handshakes()
            await self._signatures()
            await self._duplicates()
            await self._out_of_order()
            await self._batched()
            await self._burst()
        self._latency_verdict()
        return self.report

    # -- requests -------------------------------------------------------------------------------------------------

    async def _reachable(self) -> None:
        try:
            async with self.session.get(
                self.url, timeout=aiohttp.ClientTimeout(total=self.timeout), allow_redirects=False
            ) as response:
                await response.read()
        except (aiohttp.ClientConnectorError, aiohttp.InvalidURL) as error:
            raise Unreachable(f"cannot reach {self.url}: {error}: is the receiver running?") from None
        except (aiohttp.ClientError, TimeoutError):
            return  # it answers, however badly: the battery reports how

    async def _get(self, params: dict[str, str]) -> tuple[int | None, str, str | None]:
        try:
            async with self.session.get(
                self.url, params=params, timeout=aiohttp.ClientTimeout(total=self.timeout), allow_redirects=False
            ) as response:
                return response.status, (await response.text(errors="replace")), None
        except Exception as error:  # every failure is part of the report
            return None, "", f"{type(error).__name__}: {error}"

    async def _post(self, body: bytes, headers: dict[str, str]) -> tuple[int | None, float, str | None]:
        started = monotonic()
        try:
            async with self.session.post(
                self.url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                allow_redirects=False,
            ) as response:
                await response.read()
                status: int | None = response.status
                error = None
        except Exception as exc:  # every failure is part of the report
            status, error = None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        latency = (monotonic() - started) * 1000
        if status is not None:
            self.report.latencies_ms.append(latency)
        return status, latency, error

    def _signed(self, changes: list[Rendered], secret: str | None = None) -> tuple[bytes, dict[str, str]]:
        body = meta_json(payload(changes))
        return body, signed_headers(secret or self.app_secret or "no-app-secret-given", body)

    # -- the battery ----------------------------------------------------------------------------------------------

    async def _handshakes(self) -> None:
        challenge = str(self.rng.randrange(10**9, 10**10))
        if self.verify_token is None:
            self.report.add("handshake, right token", "skip", "no --verify-token given")
        else:
            status, text, error = await self._get(
                {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": self.verify_token}
            )
            if status == 200 and text.strip() == challenge:
                self.report.add("handshake, right token", "pass", "HTTP 200 with the bare challenge")
            else:
                got = error or f"HTTP {status} with body {text[:80]!r}"
                self.report.add(
                    "handshake, right token",
                    "fail",
                    f"expected HTTP 200 and body {challenge!r}; got {got} (Meta will not save the URL)",
                )
        wrong = "wrong-" + str(self.rng.randrange(10**6))
        status, text, error = await self._get(
            {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": wrong}
        )
        if error is not None:
            self.report.add("handshake, wrong token", "fail", f"no answer: {error}")
        elif status == 200 and text.strip() == challenge:
            self.report.add("handshake, wrong token", "fail", "echoed the challenge for a wrong verify token")
        else:
            self.report.add("handshake, wrong token", "pass", f"refused with HTTP {status}")

    async def _signatures(self) -> None:
        change = self.fixtures.inbound("Does it come in another color?")
        body, headers = self._signed([change])
        status, latency, error = await self._post(body, headers)
        if self.app_secret is None:
            self.report.add("signed payload", "skip", "no --app-secret given: cannot sign as Meta would")
        elif status is not None and 200 <= status < 300:
            self.report.add("signed payload", "pass", f"HTTP {status} in {latency:.0f} ms")
        else:
            self.report.add(
                "signed payload",
                "fail",
                f"a correctly signed payload got {error or f'HTTP {status}'} (Meta would retry it)",
            )
        bad_body, bad_headers = self._signed([self.fixtures.inbound("Forged")], secret="not-the-app-secret")
        status, _, error = await self._post(bad_body, bad_headers)
        self._expect_rejection("wrongly signed payload", status, error)
        unsigned_body, unsigned_headers = self._signed([self.fixtures.inbound("Unsigned")])
        unsigned_headers = {k: v for k, v in unsigned_headers.items() if not k.startswith("X-Hub-Signature")}
        status, _, error = await self._post(unsigned_body, unsigned_headers)
        self._expect_rejection("unsigned payload", status, error)

    def _expect_rejection(self, name: str, status: int | None, error: str | None) -> None:
        if status is None:
            self.report.add(name, "warn", f"no answer ({error}); a rejection should be a quick 401/403")
        elif 200 <= status < 300:
            self.report.add(
                name, "fail", f"accepted with HTTP {status}: the receiver does not verify X-Hub-Signature-256"
            )
        else:
            self.report.add(name, "pass", f"rejected with HTTP {status}")

    async def _duplicates(self) -> None:
        message = self.fixtures.outbound()
        body, headers = self._signed([self.fixtures.status(message, MessageStatus.SENT)])
        answers = [await self._post(body, headers) for _ in range(2)]
        if self.app_secret is None:
            self.report.add("duplicate delivery", "skip", "no --app-secret given")
        elif all(status is not None and 200 <= status < 300 for status, _, _ in answers):
            self.report.add("duplicate delivery", "pass", "both copies acknowledged with 2xx (dedupe by wamid+status)")
        else:
            got = ", ".join(error or f"HTTP {status}" for status, _, error in answers)
            self.report.add(
                "duplicate delivery", "fail", f"got {got}; a duplicate must be acknowledged, or Meta keeps retrying it"
            )

    async def _out_of_order(self) -> None:
        message = self.fixtures.outbound()
        changes = [
            self.fixtures.status(message, status, seconds)
            for seconds, status in enumerate((MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ))
        ]
        answers = [await self._post(*self._signed([change])) for change in reversed(changes)]
        if self.app_secret is None:
            self.report.add("statuses out of order", "skip", "no --app-secret given")
        elif all(status is not None and 200 <= status < 300 for status, _, _ in answers):
            self.report.add("statuses out of order", "pass", "read, delivered, sent all acknowledged")
        else:
            got = ", ".join(error or f"HTTP {status}" for status, _, error in answers)
            self.report.add("statuses out of order", "fail", f"read → delivered → sent got {got}")

    async def _batched(self) -> None:
        message = self.fixtures.outbound()
        changes = [self.fixtures.status(message, MessageStatus.SENT), self.fixtures.inbound("Thanks!")]
        status, _, error = await self._post(*self._signed(changes))
        if self.app_secret is None:
            self.report.add("several changes in one POST", "skip", "no --app-secret given")
        elif status is not None and 200 <= status < 300:
            self.report.add("several changes in one POST", "pass", f"HTTP {status}")
        else:
            self.report.add("several changes in one POST", "fail", f"got {error or f'HTTP {status}'}")

    async def _burst(self) -> None:
        if self.burst <= 0:
            return
        posts = []
        for _ in range(self.burst):
            message = self.fixtures.outbound()
            posts.append(self._signed([self.fixtures.status(message, MessageStatus.SENT)]))
        started = monotonic()
        answers = await asyncio.gather(*(self._post(body, headers) for body, headers in posts))
        elapsed = monotonic() - started
        ok = sum(1 for status, _, _ in answers if status is not None and 200 <= status < 300)
        detail = f"{ok}/{self.burst} acknowledged in {elapsed:.2f} s ({self.burst / max(elapsed, 1e-9):.0f}/s)"
        if self.app_secret is None:
            self.report.add("burst", "skip", detail + "; no --app-secret given")
        elif ok == self.burst:
            self.report.add("burst", "pass", detail)
        else:
            self.report.add("burst", "fail", f"{detail}; the rest: {unacknowledged(answers, self.timeout)}")

    def _latency_verdict(self) -> None:
        if not self.report.latencies_ms:
            return
        ordered = sorted(self.report.latencies_ms)
        median = statistics.median(ordered)
        over = sum(1 for value in ordered if value > SLOW_MS) / len(ordered)
        if median <= FAST_MS and over < 0.01:
            self.report.add("answer latency", "pass", f"median {median:.0f} ms, {over:.0%} over 1 s")
        else:
            self.report.add(
                "answer latency",
                "warn",
                f"median {median:.0f} ms, {over:.0%} over 1 s (Meta expects a "
                "median within 250 ms and under 1% over 1 s)",
            )


def unacknowledged(answers: Sequence[tuple[int | None, float, str | None]], timeout: float) -> str:
    """What the answers that were not 2xx were, counted: timeouts, resets, refusals, status codes."""
    reasons: Counter[str] = Counter()
    for status, _, error in answers:
        if status is not None:
            if not 200 <= status < 300:
                reasons[f"HTTP {status}"] += 1
            continue
        kind = (error or "").split(":", 1)[0]
        if "Timeout" in kind:
            reasons[f"timeout (no answer within {timeout:g} s)"] += 1
        elif kind in ("ServerDisconnectedError", "ClientOSError", "ClientConnectionResetError", "ConnectionResetError"):
            reasons["connection reset or closed"] += 1
        elif kind == "ClientConnectorError":
            reasons["connection refused"] += 1
        else:
            reasons[kind or "no answer"] += 1
    return ", ".join(f"{count} × {reason}" for reason, count in reasons.most_common())


async def check_webhook(
    url: str,
    app_secret: str | None = None,
    verify_token: str | None = None,
    *,
    burst: int = 100,
    timeout: float = 5.0,
    seed: int = 0,
) -> Report:
    return await Grader(url, app_secret, verify_token, burst=burst, timeout=timeout, seed=seed).run()


def _handler(arguments: argparse.Namespace) -> int:
    try:
        report = asyncio.run(
            check_webhook(
                arguments.url,
                arguments.app_secret,
                arguments.verify_token,
                burst=arguments.burst,
                timeout=arguments.timeout,
            )
        )
    except Unreachable as error:
        sys.stderr.write(f"wa-sandbox check-webhook: {error}\n")
        return 2
    sys.stdout.write(report.render() + "\n")
    return exit_code(report, allow_skipped=arguments.allow_skipped)


def exit_code(report: Report, *, allow_skipped: bool) -> int:
    """1 on a failed check; 3 when checks were skipped, unless the user accepts a partial check."""
    if not report.passed:
        return 1
    return 0 if report.complete or allow_skipped else 3


def _bounded(kind: type[int] | type[float], low: float, high: float) -> Any:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}")
        return value

    return parse


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check-webhook",
        help="grade a webhook receiver: handshake, signatures, duplicates, ordering, a burst",
    )
    parser.add_argument("url", help="the receiver's callback URL")
    parser.add_argument("--app-secret", help="the app secret the receiver verifies X-Hub-Signature-256 with")
    parser.add_argument("--verify-token", help="the verify token the receiver expects in the handshake")
    parser.add_argument(
        "--burst", type=_bounded(int, 0, 10_000), default=100, help="concurrent payloads in the burst, 0..10000 (100)"
    )
    parser.add_argument(
        "--timeout", type=_bounded(float, 0.1, 300), default=5.0, help="seconds to wait for each answer, 0.1..300 (5)"
    )
    parser.add_argument(
        "--allow-skipped",
        action="store_true",
        help="exit 0 even when checks were skipped for want of --app-secret or --verify-token (default: exit 3)",
    )
    parser.set_defaults(handler=_handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wa-sandbox")
    register(parser.add_subparsers(dest="command"))
    return int(_handler(parser.parse_args(["check-webhook", *(argv or [])])))
