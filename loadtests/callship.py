"""Call rows of locust workers on other hosts, shipped to the master over locust's own channel.

A worker on another machine cannot write into the master's run directory, so with a plan whose `ship_calls` is set
(`wa-sandbox load --remote-workers N`) each worker writes its rows to a private temporary file, and when the run
time is up the master asks every worker to stop its users and send the file; it writes each as
`calls-<host>-<pid>.csv` into the run directory and waits (at most SHIP_WAIT seconds) until all have answered
before locust quits. Imported by loadtests.users, so it imports locust (gevent).
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from loadtests.plan import PLAN_ENV

ROWS = "wa_sandbox_calls"
FLUSH = "wa_sandbox_flush"
DONE = "wa_sandbox_calls_done"
CHUNK = 256 * 1024
SHIP_WAIT = 60.0
_answered: set[str] = set()
_ship_dir: str | None = None


def ship_directory() -> Path:
    """Where a shipping worker keeps its rows until the master asks for them."""
    global _ship_dir
    if _ship_dir is None:
        _ship_dir = tempfile.mkdtemp(prefix="wa-load-calls-")
    return Path(_ship_dir)


def file_name(worker: str) -> str:
    return "calls-" + re.sub(r"[^A-Za-z0-9_.-]", "_", worker)[:100] + ".csv"


@events.init.add_listener
def _register(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        runner.register_message(ROWS, _receive_rows)
        runner.register_message(DONE, _receive_done)
    elif isinstance(runner, WorkerRunner):
        runner.register_message(FLUSH, _flush, concurrent=True)


def _receive_rows(environment: Environment, msg: Any, **_: Any) -> None:
    from loadtests.users import _plan

    with (Path(_plan().run_dir) / file_name(msg.data["worker"])).open("a") as handle:
        handle.write(msg.data["text"])


def _receive_done(environment: Environment, msg: Any, **_: Any) -> None:
    _answered.add(msg.node_id)


def _flush(environment: Environment, msg: Any, **_: Any) -> None:
    from loadtests.users import CallLog

    runner = environment.runner
    assert isinstance(runner, WorkerRunner)
    runner.stop()  # users stopped, so no row comes after the file is sent
    CallLog.close()
    worker = f"{socket.gethostname()}-{os.getpid()}"
    for path in sorted(ship_directory().glob("calls-*.csv")):
        with path.open() as handle:
            while text := handle.read(CHUNK):
                runner.send_message(ROWS, {"worker": worker, "text": text})
        path.unlink()
    runner.send_message(DONE, {"worker": worker})


@events.test_stopping.add_listener
def _collect(environment: Environment, **_: Any) -> None:
    from loadtests.users import _plan

    runner = environment.runner
    if not isinstance(runner, MasterRunner) or not os.environ.get(PLAN_ENV) or not _plan().ship_calls:
        return
    expected = {client.id for client in runner.clients.all}
    _answered.clear()
    runner.send_message(FLUSH)
    deadline = time.monotonic() + SHIP_WAIT
    while not expected <= _answered and time.monotonic() < deadline:
        gevent.sleep(0.1)
