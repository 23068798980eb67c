"""Locust users for load runs against the sandbox. Importing this module imports locust (gevent).

- `BusinessUser`: a business sending at a paced rate from one number (`constant_throughput`), a mix of message
  types and the `hello_world` template, each stamped with its send time in `biz_opaque_callback_data`.
- `CustomerUser`: customers writing in through the control plane (`POST /_sandbox/tenants/{t}/inbound`).
- `RateLimitUser`: a business that deliberately offers more than its number's throughput; Meta's 130429
  ("Cloud API message throughput has been reached") counts as an expected outcome, not a failure.

Users are spread over the plan's numbers (user i → number i mod N) and walk disjoint slices of the recipient
pool, so no recipient is messaged faster than Meta's pair rate allows. Each process appends one CSV row per call
to `<run dir>/calls-<pid>.csv`; the report is computed from those rows (locust's own percentiles are whole ms).
"""

from __future__ import annotations

import itertools
import os
import random
import time
from pathlib import Path
from typing import IO, Any, ClassVar

import orjson
from locust import FastHttpUser, constant_throughput, events, task
from locust.env import Environment

from loadtests import callship
from loadtests.plan import LoadPlan, NumberPlan, message_body, recipient, user_slice

SEND_NAME = "/{phone_number_id}/messages"
INBOUND_NAME = "/_sandbox/tenants/{tenant}/inbound"
THROUGHPUT_REACHED = 130429
CALL_LOG_HEADER = "t_send,latency_ms,http_status,graph_code,kind,number,wamid\n"


class CallLog:
    """One CSV file per locust process; rows are appended from greenlets (no yield inside a write)."""

    _file: ClassVar[IO[str] | None] = None

    @classmethod
    def write(
        cls, t_send: float, latency_ms: float, status: int, code: int | str, kind: str, number: str, wamid: str
    ) -> None:
        if cls._file is None:
            plan = _plan()
            directory = callship.ship_directory() if plan.ship_calls else Path(plan.run_dir)
            path = directory / f"calls-{os.getpid()}.csv"
            cls._file = path.open("a", buffering=1 << 16)
            if path.stat().st_size == 0:
                cls._file.write(CALL_LOG_HEADER)
        cls._file.write(f"{t_send:.6f},{latency_ms:.3f},{status},{code},{kind},{number},{wamid}\n")

    @classmethod
    def close(cls) -> None:
        if cls._file is not None:
            cls._file.close()
            cls._file = None


@events.test_stop.add_listener
def _flush_on_stop(environment: Environment, **_: Any) -> None:
    CallLog.close()


@events.quitting.add_listener
def _flush_on_quit(environment: Environment, **_: Any) -> None:
    CallLog.close()


_PLAN: LoadPlan | None = None


def _plan() -> LoadPlan:
    global _PLAN
    if _PLAN is None:
        _PLAN = LoadPlan.from_env()
    return _PLAN


def _graph_code(body: bytes) -> int | str:
    try:
        return int(orjson.loads(body)["error"]["code"])
    except Exception:
        return "not-graph"


class _PlannedUser(FastHttpUser):
    """Shared set-up: which number this user drives, its recipients and its pace."""

    abstract = True
    _counter: ClassVar[itertools.count[int]] = itertools.count()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._counter = itertools.count()  # each class spreads its own users over the numbers

    # geventhttpclient defaults are sized for browsing; load runs keep one connection per user
    connection_timeout = 5.0
    network_timeout = 10.0

    number: NumberPlan
    rate: float

    def on_start(self) -> None:
        plan = _plan()
        runner = self.environment.runner
        worker = getattr(runner, "worker_index", 0) or 0
        global_index = next(self._counter) * max(1, plan.processes) + worker
        self.plan = plan
        self.number = plan.numbers[global_index % len(plan.numbers)]
        self.rank = global_index // len(plan.numbers)
        self.rng = random.Random(global_index)
        self._pace = constant_throughput(self.planned_rate(plan))
        self.auth = {"Authorization": f"Bearer {self.number.access_token}", "Content-Type": "application/json"}

    def planned_rate(self, plan: LoadPlan) -> float:
        return plan.rate_per_user

    def wait_time(self) -> float:
        return float(self._pace(self))


class BusinessUser(_PlannedUser):
    """A business sending from its number at `rate_per_number / users_per_number` messages/s."""

    expected_codes: ClassVar[frozenset[int]] = frozenset()

    def on_start(self) -> None:
        super().on_start()
        plan = self.plan
        self.recipients = itertools.cycle(
            [recipient(i) for i in user_slice(self.rank, plan.users_per_number, plan.recipients_per_number)]
        )
        kinds, weights = zip(*plan.mix.items(), strict=True)
        # a shuffled deck rather than independent draws keeps the mix exact over any 100 sends
        deck = [kind for kind, weight in zip(kinds, weights, strict=True) for _ in range(weight)]
        self.rng.shuffle(deck)
        self.kinds = itertools.cycle(deck)
        self.path = f"/{plan.graph_version}/{self.number.phone_number_id}/messages"

    @task
    def send_message(self) -> None:
        kind = next(self.kinds)
        sent_at = time.time()
        body = orjson.dumps(message_body(kind, next(self.recipients), sent_at))
        started = time.perf_counter()
        with self.client.post(self.path, data=body, headers=self.auth, name=SEND_NAME, catch_response=True) as resp:
            latency_ms = (time.perf_counter() - started) * 1000
            status = resp.status_code or 0
            content = resp.content or b""
            if status == 200:
                try:
                    wamid = orjson.loads(content)["messages"][0]["id"]
                except Exception:
                    wamid = ""
                if not wamid.startswith("wamid."):
                    resp.failure(f"200 without a wamid: {content[:120]!r}")
                CallLog.write(sent_at, latency_ms, status, "", kind, self.number.tenant, wamid)
                return
            code = _graph_code(content) if status else "no-response"
            CallLog.write(sent_at, latency_ms, status, code, kind, self.number.tenant, "")
            if code in self.expected_codes:
                resp.request_meta["name"] = f"{SEND_NAME} [{code} expected]"
                resp.success()
            else:
                resp.failure(f"HTTP {status} Graph error {code}")


class RateLimitUser(BusinessUser):
    """Offers more than the number's throughput on purpose: 130429 is expected and counted, not failed."""

    expected_codes: ClassVar[frozenset[int]] = frozenset({THROUGHPUT_REACHED})


class CustomerUser(_PlannedUser):
    """Customers writing to the business (inbound `messages` webhooks), through the control plane."""

    def planned_rate(self, plan: LoadPlan) -> float:
        return plan.inbound_rate_per_user

    def on_start(self) -> None:
        super().on_start()
        plan = self.plan
        pool = [
            recipient(i)
            for i in user_slice(self.rank, max(1, plan.customer_users_per_number), plan.recipients_per_number)
        ]
        self.rng.shuffle(pool)
        self.customers = itertools.cycle(pool)
        self.path = f"/_sandbox/tenants/{self.number.tenant}/inbound"
        self.headers = {"Content-Type": "application/json"}
        admin_token = os.environ.get("WA_SANDBOX_ADMIN_TOKEN")
        if admin_token:  # a sandbox off loopback guards its control plane
            self.headers["Authorization"] = f"Bearer {admin_token}"

    @task
    def write_in(self) -> None:
        body = orjson.dumps(
            {
                "from": next(self.customers),
                "phone_number_id": self.number.phone_number_id,
                "type": "text",
                "text": {"body": "Where is my order?"},
            }
        )
        sent_at = time.time()
        started = time.perf_counter()
        with self.client.post(
            self.path, data=body, headers=self.headers, name=INBOUND_NAME, catch_response=True
        ) as resp:
            latency_ms = (time.perf_counter() - started) * 1000
            status = resp.status_code or 0
            wamid = ""
            if status == 200:
                try:
                    wamid = orjson.loads(resp.content)["message"]["id"]
                except Exception:
                    resp.failure("inbound answer without message.id")
            else:
                resp.failure(f"HTTP {status}")
            CallLog.write(sent_at, latency_ms, status, "", "inbound", self.number.tenant, wamid)
