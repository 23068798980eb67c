"""One load run: start the sandbox, the sink and locust (headless) on loopback, drive them for a bounded time,
then write the report into `reports/<timestamp>/`.

Every process is started here in its own session and stopped here by its own pid. Nothing listens off loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import math
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import aiohttp
import orjson

from loadtests.plan import PLAN_ENV, LoadPlan, NumberPlan, recipient, recipients_for, users_for
from loadtests.processes import HOST, free_port, sandbox_argv
from loadtests.progress import Ticker, say
from loadtests.report import load_run, write_report
from loadtests.shards import cpu_by_process

PROFILES = {
    "steady": "businesses send at the rate per number (message mix + hello_world template)",
    "mixed": "steady, plus customers writing in at --inbound-rate per number",
    "overload": "a business offers --rate per number regardless of its throughput; 130429 is expected",
}
MAX_DURATION = 3600.0
MAX_TOTAL_RATE = 20_000.0
MAX_NUMBERS = 200
STANDARD_MPS = 80
# Status progression for load runs: short, so that every message's read webhook arrives within a second.
LOAD_POLICY: dict[str, Any] = {
    "progression": "scheduled",
    "sent_delay": [0.01, 0.05],
    "delivered_delay": [0.05, 0.2],
    "read_delay": [0.1, 0.5],
    "read_probability": 1.0,
    # a backlog while the sandbox catches up is queued, not dropped (the default bound is 10,000 per tenant)
    "webhook_queue_limit": 200_000,
}
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# loadtests.users.SEND_NAME: the locust entry of the sends (users.py imports locust, which this process must not).
SEND_ENTRY = "/{phone_number_id}/messages"


@dataclass
class RunOptions:
    duration: float = 60.0
    rate: float = 80.0
    numbers: int = 1
    profile: str = "steady"
    inbound_rate: float | None = None
    users_per_number: int | None = None
    processes: int | None = None
    throughput: str = "auto"
    webhooks: bool = True
    out: Path = Path("reports")
    port: int | None = None
    drain_timeout: float = 60.0
    seed: int = 1
    py_spy: bool = False
    command: str = ""
    mix: dict[str, int] | None = None
    workers: int = 1
    sandbox_url: str | None = None
    sink_host: str = HOST
    locust_workers: int = 0
    remote_workers: int = 0
    master_host: str = "0.0.0.0"
    master_port: int | None = None

    def check(self) -> None:
        if not 1 <= self.duration <= MAX_DURATION:
            raise ValueError(f"--duration must be 1..{MAX_DURATION:.0f} seconds")
        if not 1 <= self.numbers <= MAX_NUMBERS:
            raise ValueError(f"--numbers must be 1..{MAX_NUMBERS}")
        if not 0 < self.rate * self.numbers <= MAX_TOTAL_RATE:
            raise ValueError(f"--rate × --numbers must be more than 0 and at most {MAX_TOTAL_RATE:.0f} msgs/s")
        if self.profile not in PROFILES:
            raise ValueError(f"--profile must be one of {', '.join(PROFILES)}")
        if self.throughput not in ("auto", "STANDARD", "HIGH"):
            raise ValueError("--throughput must be auto, STANDARD or HIGH")
        if self.port is not None and not 1 <= self.port <= 65535:
            raise ValueError("--port must be from 1 to 65535")
        if not 1 <= self.workers <= 64:
            raise ValueError("--workers must be 1..64")
        if self.sandbox_url is not None and (self.workers > 1 or self.port is not None or self.py_spy):
            raise ValueError("--sandbox-url is a sandbox running elsewhere: no --workers, --port or --py-spy with it")
        if not 0 <= self.locust_workers <= 64 or not 0 <= self.remote_workers <= 256:
            raise ValueError("--locust-workers must be 0..64 and --remote-workers 0..256")
        if self.locust_workers and self.remote_workers:
            raise ValueError("--locust-workers (started here) or --remote-workers (started elsewhere), not both")
        if (self.locust_workers or self.remote_workers) and self.processes:
            raise ValueError("--processes is locust's own workers on this machine: not with --locust-workers")
        if self.master_port is not None and not 1 <= self.master_port <= 65535:
            raise ValueError("--master-port must be from 1 to 65535")


@dataclass
class Started:
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    name: str

    def stop(self, grace: float = 10.0) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.log.close()


def _py_spy() -> str:
    beside = Path(sys.executable).with_name("py-spy")
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if not found:
        raise RuntimeError("--py-spy needs py-spy (pip install py-spy)")
    return found


def _pause(seconds: float) -> None:
    threading.Event().wait(seconds)


def _start(name: str, argv: list[str], run_dir: Path, env: dict[str, str] | None = None) -> Started:
    log = (run_dir / f"{name}.log").open("wb")
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE if name == "sink" else log,
        stderr=log,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    return Started(process, log, name)


@dataclass
class Sampler:
    """psutil samples of the sandbox, sink and locust processes, once a second, into resources.csv."""

    pids: dict[str, int | list[int]]
    path: Path
    rows: list[dict[str, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="psutil-sampler", daemon=True)
        self._thread.start()

    def _family(self, roots: dict[str, list[Any]], tracked: dict[int, Any], name: str) -> list[Any]:
        """The processes under `name` now (children come and go: HAProxy, shards), each tracked across samples
        so that its cpu_percent measures the interval since the previous one."""
        import psutil

        family = []
        for root in roots.get(name, []):
            family.append(root)
            with contextlib.suppress(psutil.Error):
                family += root.children(recursive=True)
        return [tracked.setdefault(proc.pid, proc) for proc in family]

    def _run(self) -> None:
        import psutil

        roots: dict[str, list[Any]] = {}
        tracked: dict[int, Any] = {}
        for name, pid in self.pids.items():
            roots[name] = []
            for one in pid if isinstance(pid, list) else [pid]:
                with contextlib.suppress(psutil.Error):
                    roots[name].append(psutil.Process(one))

        def cpu(family: list[Any]) -> float:
            total = 0.0
            for proc in family:
                with contextlib.suppress(psutil.Error):
                    total += proc.cpu_percent(None)
            return total

        for name in self.pids:
            cpu(self._family(roots, tracked, name))  # primes cpu_percent
        psutil.cpu_percent(None)
        cores = psutil.cpu_count() or 1
        while not self._stop.wait(1.0):
            row: dict[str, float] = {"t": time.time()}
            for name in self.pids:
                row[f"{name}_cpu"] = round(cpu(self._family(roots, tracked, name)), 1)
            # busy CPU of the whole box (100 = one core) minus ours: other work that skews the figures
            box = psutil.cpu_percent(None) * cores
            row["other_cpu"] = round(max(0.0, box - sum(row[f"{name}_cpu"] for name in self.pids)), 1)
            rss = 0
            for proc in self._family(roots, tracked, "sandbox"):
                with contextlib.suppress(psutil.Error):
                    rss += proc.memory_info().rss
            row["sandbox_rss_mb"] = rss / 2**20
            self.rows.append(row)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self.rows:
            with self.path.open("w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(self.rows[0]))
                writer.writeheader()
                writer.writerows(self.rows)


# -- set-up through the control plane ----------------------------------------------------------------------------


async def _json(session: aiohttp.ClientSession, method: str, url: str, body: Any = None) -> tuple[int, Any]:
    async with session.request(
        method, url, data=orjson.dumps(body) if body is not None else None, headers=control_headers()
    ) as response:
        raw = await response.read()
        try:
            return response.status, orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            return response.status, raw.decode(errors="replace")


def control_headers() -> dict[str, str]:
    """JSON, plus the admin token when the sandbox runs off loopback with one (WA_SANDBOX_ADMIN_TOKEN)."""
    headers = {"Content-Type": "application/json"}
    token = os.environ.get("WA_SANDBOX_ADMIN_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


async def set_throughput(session: aiohttp.ClientSession, base: str, number: NumberPlan, level: str) -> str:
    """Put the number on `level` through the control plane and return the level `GET /{phone}` reports.

    Meta upgrades a number to HIGH (1,000 mps) on its own; the control plane plays that at once here.
    """
    path = f"{base}/_sandbox/tenants/{number.tenant}/phone_numbers/{number.phone_number_id}/throughput"
    status, answer = await _json(session, "PUT", path, {"level": level})
    if status >= 300 and level != "STANDARD":
        raise RuntimeError(f"setting throughput {level} failed: {status} {answer}")
    return await current_throughput(session, base, number)


async def current_throughput(session: aiohttp.ClientSession, base: str, number: NumberPlan) -> str:
    async with session.get(
        f"{base}/{number.phone_number_id}",
        params={"fields": "throughput"},
        headers={"Authorization": f"Bearer {number.access_token}"},
    ) as response:
        doc = await response.json(loads=orjson.loads)
    return str((doc.get("throughput") or {}).get("level", "unknown"))


async def prepare(base: str, sink: str | None, options: RunOptions, plan_extra: dict[str, Any]) -> LoadPlan:
    """Create one `live` tenant per number, point its callback at the sink, shorten the status progression,
    set the throughput level, and open the customer-service window of every recipient in the pool."""
    level = options.throughput
    if level == "auto":
        level = "HIGH" if options.rate > STANDARD_MPS and options.profile != "overload" else "STANDARD"
    pool = recipients_for(options.rate)
    numbers: list[NumberPlan] = []
    secrets: dict[str, str] = {}
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=32)) as session:
        for index in range(1, options.numbers + 1):
            name = f"load-{index}"
            body: dict[str, Any] = {"name": name, "profile": "live", "seed": options.seed * 1000 + index}
            if sink:
                body["webhook"] = {"url": f"{sink}/webhook/{name}"}
            status, doc = await _json(session, "POST", f"{base}/_sandbox/tenants", body)
            if status != 201:
                raise RuntimeError(f"creating tenant {name} failed: {status} {doc}")
            status, policy = await _json(session, "PATCH", f"{base}/_sandbox/tenants/{name}/policy", LOAD_POLICY)
            if status != 200:
                raise RuntimeError(f"setting the load policy failed: {status} {policy}")
            number = NumberPlan(name, doc["access_token"], doc["phone_number_id"], doc["app_secret"])
            number.throughput_level = await set_throughput(session, base, number, level)
            numbers.append(number)
            secrets[name] = doc["app_secret"]
        if sink:
            await _json(session, "POST", f"{sink}/_sink/secrets", secrets)
        plan = LoadPlan(numbers=numbers, recipients_per_number=pool, **plan_extra)
        # Free-form messages need an open 24-hour window: every recipient writes in once before the load.
        queue: asyncio.Queue[tuple[NumberPlan, str]] = asyncio.Queue()
        for number in numbers:
            for i in range(pool):
                queue.put_nowait((number, recipient(i)))

        async def opener() -> None:
            while not queue.empty():
                number, wa_id = queue.get_nowait()
                status, answer = await _json(
                    session,
                    "POST",
                    f"{base}/_sandbox/tenants/{number.tenant}/inbound",
                    {
                        "from": wa_id,
                        "phone_number_id": number.phone_number_id,
                        "type": "text",
                        "text": {"body": "hi"},
                    },
                )
                if status != 200:
                    raise RuntimeError(f"opening the window of {wa_id} failed: {status} {answer}")

        await asyncio.gather(*(opener() for _ in range(16)))
        # Those inbound messages took throughput slots (Meta counts inbound too): move each tenant's clock past
        # the second they hold so the load does not start against a full window.
        for number in numbers:
            await _json(session, "POST", f"{base}/_sandbox/tenants/{number.tenant}/clock/advance", {"seconds": 1.0})
        if sink:
            expected = pool * len(numbers)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                _, stats = await _json(session, "GET", f"{sink}/_sink/stats")
                if stats["counts"].get("inbound_messages", 0) >= expected:
                    break
                await asyncio.sleep(0.2)
            await _json(session, "POST", f"{sink}/_sink/reset")
    return plan


def _wait_ready(url: str, timeout: float, process: subprocess.Popen[bytes]) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with code {process.returncode} before answering")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return
        _pause(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def _get_json(url: str) -> Any:
    import urllib.request

    request = urllib.request.Request(url, headers=control_headers())
    with urllib.request.urlopen(request, timeout=30) as response:
        return orjson.loads(response.read())


def health(base: str) -> dict[str, Any]:
    """The server's `GET /_sandbox/health` (a degraded one answers 503 with the same document)."""
    import urllib.error

    try:
        return dict(_get_json(f"{base}/_sandbox/health"))
    except urllib.error.HTTPError as error:
        if error.code == 503:
            return dict(orjson.loads(error.read()))
        raise RuntimeError(f"{base}/_sandbox/health answered {error.code}") from None
    except OSError as error:
        raise RuntimeError(f"no sandbox answers at {base}: {error}") from None


def _drain(sink: str, expected: int, timeout: float) -> float:
    """Wait until the sink has `expected` status webhooks, or none came for 5 s, or `timeout`; returns seconds."""
    started = time.monotonic()
    last_total, last_change = -1, started
    while time.monotonic() - started < timeout:
        counts = _get_json(f"{sink}/_sink/stats")["counts"]
        total = sum(counts.get(status, 0) for status in ("sent", "delivered", "read", "failed"))
        if total >= expected:
            break
        if total != last_total:
            last_total, last_change = total, time.monotonic()
        elif time.monotonic() - last_change > 5:
            break
        _pause(0.25)
    return time.monotonic() - started


def _save_undelivered(base: str, plan: LoadPlan, run_dir: Path) -> None:
    """The sandbox's own view of webhooks it could not deliver (retrying or dropped), for the post-mortem."""
    found: dict[str, Any] = {}
    for number in plan.numbers:
        for state in ("retrying", "dropped", "pending"):
            with contextlib.suppress(OSError, ValueError):
                answer = _get_json(f"{base}/_sandbox/tenants/{number.tenant}/webhooks?state={state}&limit=20")
                found[f"{number.tenant}:{state}"] = answer.get("data", [])
    (run_dir / "sandbox-undelivered.json").write_bytes(orjson.dumps(found, option=orjson.OPT_INDENT_2))


def _accepted_by_tenant(run_dir: Path) -> dict[str, int]:
    accepted: Counter[str] = Counter()
    for path in run_dir.glob("calls-*.csv"):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                if row["http_status"] == "200" and row["kind"] != "inbound" and row["wamid"]:
                    accepted[row["number"]] += 1
    return dict(accepted)


def _first_call(run_dir: Path) -> float | None:
    first = None
    for path in run_dir.glob("calls-*.csv"):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                first = min(first or math.inf, float(row["t_send"]))
                break  # rows are appended in send order per process
    return first


def _count_accepted(run_dir: Path) -> int:
    return sum(_accepted_by_tenant(run_dir).values())


def _user_classes(options: RunOptions, users: int, customers: int) -> list[dict[str, Any]]:
    if options.profile == "overload":
        return [{"user_class_name": "RateLimitUser", "fixed_count": users}]
    config = [{"user_class_name": "BusinessUser", "fixed_count": users}]
    if options.profile == "mixed" and customers:
        config.append({"user_class_name": "CustomerUser", "fixed_count": customers})
    return config


@contextlib.contextmanager
def _processes() -> Iterator[list[Started]]:
    started: list[Started] = []
    try:
        yield started
    finally:
        for item in reversed(started):
            item.stop()


def prepare_only(options: RunOptions, sandbox_url: str, sink_url: str | None, plan_path: Path) -> LoadPlan:
    """Prepare tenants on a sandbox that is already running (e.g. on another machine) and write the plan that
    locust master and workers read (docs/loadtesting.md, distributed mode)."""
    options.check()
    users = options.users_per_number or users_for(options.rate)
    inbound_rate = options.inbound_rate or (options.rate / 10 if options.profile == "mixed" else 0.0)
    plan = asyncio.run(
        prepare(
            sandbox_url.rstrip("/"),
            sink_url.rstrip("/") if sink_url else None,
            options,
            {
                "rate_per_number": options.rate,
                "users_per_number": users,
                "inbound_rate_per_number": inbound_rate,
                "customer_users_per_number": users_for(inbound_rate) if inbound_rate else 0,
                "processes": options.processes or 1,
                "run_dir": ".",
                **({"mix": options.mix} if options.mix else {}),
            },
        )
    )
    plan.dump(plan_path)
    return plan


def run(options: RunOptions) -> Path:
    """Perform one load run and return its report directory."""
    options.check()
    run_dir = options.out / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    run_dir.mkdir(parents=True, exist_ok=False)
    port = options.port or free_port()
    base = options.sandbox_url.rstrip("/") if options.sandbox_url else f"http://{HOST}:{port}"
    users = options.users_per_number or users_for(options.rate)
    inbound_rate = (
        options.inbound_rate
        if options.inbound_rate is not None
        else (options.rate / 10 if options.profile == "mixed" else 0.0)
    )
    customers = users_for(inbound_rate) if inbound_rate else 0
    total_rate = options.rate * options.numbers + inbound_rate * options.numbers
    locust_workers = options.locust_workers or options.remote_workers
    processes = locust_workers or options.processes or (1 if total_rate <= 1500 else 2)
    with _processes() as started:
        pids: dict[str, int | list[int]] = {}
        if options.sandbox_url:
            say(f"writing to {run_dir}/; using the sandbox at {base}")
            health(base)
        else:
            workers = ["--workers", str(options.workers)] if options.workers > 1 else []
            sandbox = _start("sandbox", [*sandbox_argv(port), *workers], run_dir)
            started.append(sandbox)
            say(
                f"writing to {run_dir}/; starting the sandbox on {base}"
                + (f" ({options.workers} workers)" * bool(workers))
            )
            try:
                _wait_ready(f"{base}/_sandbox/health", 60 if workers else 30, sandbox.process)
            except RuntimeError as error:
                said = (run_dir / "sandbox.log").read_text(errors="replace").strip().splitlines()
                raise RuntimeError(f"the sandbox did not start: {said[-1] if said else error}") from None
            say("sandbox up")
            pids["sandbox"] = sandbox.process.pid
        sink_url = None
        if options.webhooks:
            sink = _start(
                "sink",
                [
                    sys.executable,
                    "-m",
                    "loadtests.sink",
                    "--host",
                    options.sink_host,
                    "--port",
                    "0",
                    "--max-seconds",
                    str(int(options.duration + options.drain_timeout + 600)),
                ],
                run_dir,
            )
            started.append(sink)
            assert sink.process.stdout is not None
            first = sink.process.stdout.readline().decode().strip()
            if not first.startswith("sink listening on "):
                raise RuntimeError(f"the sink did not start: {first!r}")
            sink_url = first.removeprefix("sink listening on ")
            pids["sink"] = sink.process.pid
            say(f"webhook sink up on {sink_url}")
        say(f"creating {options.numbers} tenant(s) and opening their customers' windows")
        plan = asyncio.run(
            prepare(
                base,
                sink_url,
                options,
                {
                    "rate_per_number": options.rate,
                    "users_per_number": users,
                    "inbound_rate_per_number": inbound_rate,
                    "customer_users_per_number": customers,
                    "processes": processes,
                    "run_dir": str(run_dir.resolve()),
                    "ship_calls": bool(options.remote_workers),
                    **({"mix": options.mix} if options.mix else {}),
                },
            )
        )
        plan_path = run_dir / "plan.json"
        plan.dump(plan_path)
        user_config = _user_classes(options, users * options.numbers, customers * options.numbers)
        total_users = sum(item["fixed_count"] for item in user_config)
        argv = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--host",
            base,
            "-u",
            str(total_users),
            "-r",
            str(max(10, total_users)),
            "-t",
            f"{int(options.duration)}s",
            "--stop-timeout",
            "5",
            "--csv",
            str(run_dir / "locust"),
            "--csv-full-history",
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--exit-code-on-error",
            "0",
            "--config-users",
            orjson.dumps(user_config).decode(),
        ]
        master_port = options.master_port or free_port()
        wait_workers = 0.0
        if locust_workers:
            bind = options.master_host if options.remote_workers else HOST
            argv += ["--master", "--expect-workers", str(locust_workers), "--master-bind-host", bind]
            argv += ["--master-bind-port", str(master_port)]
            wait_workers = 600.0 if options.remote_workers else 60.0
            argv += ["--expect-workers-max-wait", str(int(wait_workers))]
        elif processes > 1:
            argv += ["--processes", str(processes)]
        pids["locust"] = 0
        before, before_at = health(base), time.time()
        (run_dir / "health-before.json").write_bytes(orjson.dumps(before, option=orjson.OPT_INDENT_2))
        profiler = None
        load_started = time.time()
        locust = _start("locust", argv, run_dir, env={PLAN_ENV: str(plan_path)})
        started.append(locust)
        pids["locust"] = locust.process.pid
        worker_argv = [*(sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker", "--loglevel", "WARNING")]
        for index in range(options.locust_workers):
            worker = _start(
                f"locust-worker-{index + 1}",
                [*worker_argv, "--master-host", HOST, "--master-port", str(master_port)],
                run_dir,
                env={PLAN_ENV: str(plan_path)},
            )
            started.append(worker)
        if options.locust_workers:
            pids["locust_workers"] = [item.process.pid for item in started if item.name.startswith("locust-worker")]
        if options.remote_workers:
            say(
                f"waiting up to {wait_workers:.0f} s for {options.remote_workers} locust worker(s); on each worker "
                f"host, with a copy of {plan_path.resolve()} as plan.json:\n"
                f"  WA_LOAD_PLAN=plan.json locust -f loadtests/locustfile.py --worker "
                f"--master-host <address of this host> --master-port {master_port}"
            )
        sampler = Sampler(pids, run_dir / "resources.csv")
        sampler.start()
        say(f"running {total_users} locust user(s) for {options.duration:.0f} s ({options.profile})")
        ticker = Ticker(options.duration, run_dir / "locust_stats_history.csv", SEND_ENTRY)
        ticker.start()
        if options.py_spy:
            profiler = _start(
                "py-spy",
                [
                    _py_spy(),
                    "record",
                    "--pid",
                    str(sandbox.process.pid),
                    "--duration",
                    str(int(options.duration)),
                    "--rate",
                    "200",
                    "--format",
                    "speedscope",
                    "--output",
                    str(run_dir / "sandbox-profile.speedscope.json"),
                ],
                run_dir,
            )
            started.append(profiler)
        try:
            locust.process.wait(options.duration + 90 + wait_workers)
        except subprocess.TimeoutExpired:
            locust.stop()
        finally:
            ticker.stop()
        if locust.process.returncode and locust.process.returncode > 0:
            raise RuntimeError(f"locust exited with code {locust.process.returncode}: see {run_dir}/locust.log")
        load_ended = time.time()
        if locust_workers:  # the master's clock starts when its workers have joined, with their first call
            load_started = max(load_started, _first_call(run_dir) or load_started)
        drain_s = 0.0
        if sink_url:
            expected = _count_accepted(run_dir) * 3
            say(f"load done; waiting up to {options.drain_timeout:.0f} s for the last webhooks")
            drain_s = _drain(sink_url, expected, options.drain_timeout)
            say(f"drained in {drain_s:.1f} s")
            _pause(1.0)
            with contextlib.suppress(OSError):
                import urllib.request

                with urllib.request.urlopen(f"{sink_url}/_sink/records", timeout=60) as response:
                    (run_dir / "webhooks.csv").write_bytes(response.read())
                (run_dir / "sink.json").write_bytes(
                    orjson.dumps(_get_json(f"{sink_url}/_sink/stats"), option=orjson.OPT_INDENT_2)
                )
        sampler.stop()
        after, after_at = health(base), time.time()
        (run_dir / "health-after.json").write_bytes(orjson.dumps(after, option=orjson.OPT_INDENT_2))
        _save_undelivered(base, plan, run_dir)
        if profiler is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                profiler.process.wait(30)
    meta = {
        "profile": options.profile,
        "numbers": options.numbers,
        "rate": options.rate,
        "throughput_level": ", ".join(sorted({n.throughput_level for n in plan.numbers})),
        "load_started_at": load_started,
        "load_ended_at": load_started + options.duration,
        "drain_s": round(drain_s, 2),
        "command": options.command or "wa-sandbox load",
        "locust_argv": " ".join(shlex.quote(a) for a in argv),
        "processes": processes,
        "locust_workers": locust_workers,
        "workers": options.workers,
        "sandbox_url": options.sandbox_url,
        "server_processes": cpu_by_process(before, after, _accepted_by_tenant(run_dir), after_at - before_at),
    }
    _ = load_ended
    (run_dir / "meta.json").write_bytes(orjson.dumps(meta, option=orjson.OPT_INDENT_2))
    write_report(run_dir, load_run(run_dir, meta))
    say(f"report written to {run_dir}/report.md")
    return run_dir
