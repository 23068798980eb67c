"""`wa-sandbox serve --workers N`: N shards on loopback, started here, behind the front on the server's address."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import httpx

from sandbox.cluster import front
from sandbox.cluster.shard import DEFAULT_TENANT
from sandbox.ids import shard_for
from sandbox.settings import ENV_PREFIX, Settings


def child_environment(settings: Settings, index: int, count: int, owner: bool) -> dict[str, str]:
    """The environment a shard started by `serve --workers` reads its settings from (`WA_SANDBOX_*`)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    values: dict[str, Any] = {f.name: getattr(settings, f.name) for f in fields(settings)}
    values |= {"host": "127.0.0.1", "port": 0, "workers": 1, "shard_index": index, "shard_count": count}
    # Off loopback the front's clients must not get tokens computable from the seed, though shards are on loopback.
    values["secure_credentials"] = settings.secret_credentials
    if settings.data_path is not None:
        values["data_dir"] = str(Path(settings.data_path) / f"shard-{index:02d}")
    if not owner:
        values["webhook_url"] = values["verify_token"] = None
    for name, value in values.items():
        if value is not None:
            environment[ENV_PREFIX + name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    return environment


def start_shards(settings: Settings) -> tuple[list[str], list[subprocess.Popen[bytes]]]:
    """Each shard on a loopback socket bound here and inherited (`--listen-fd`), so no port can be lost to a race."""
    from sandbox.cli import bind_listener

    count = settings.workers
    owner = shard_for(DEFAULT_TENANT, count)
    urls: list[str] = []
    children: list[subprocess.Popen[bytes]] = []
    try:
        for index in range(count):
            listener = bind_listener("127.0.0.1", 0)
            with listener:
                port = listener.getsockname()[1]
                command = [sys.executable, "-m", "sandbox", "serve", "--listen-fd", str(listener.fileno())]
                environment = child_environment(settings, index, count, index == owner)
                environment["WA_SANDBOX_PORT"] = str(port)
                children.append(subprocess.Popen(command, env=environment, pass_fds=(listener.fileno(),)))
            urls.append(f"http://127.0.0.1:{port}")
        front.wait_for_shards(urls, settings.admin_token, children)
    except BaseException:
        front.stop(children)
        raise
    return urls, children


def serve_workers(settings: Settings) -> int:
    from sandbox.cluster import haproxy

    if haproxy.haproxy_binary() is None:
        sys.stderr.write("wa-sandbox: --workers needs HAProxy (apt-get install haproxy), or run --workers 1\n")
        return 1
    try:
        urls, children = start_shards(settings)
    except RuntimeError as error:
        sys.stderr.write(f"wa-sandbox: {error}\n")
        return 2
    return front.run(front.Front(settings, urls, children))


@contextlib.contextmanager
def running_workers(
    workers: int, *extra: str, port: int | None = None, cwd: str | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`wa-sandbox serve --workers N` (plus `extra` flags) on a loopback port, once its health is 200; yields its
    base URL and process, and stops it (Ctrl-C: shards and HAProxy with it) afterwards."""
    from sandbox.testing import free_port

    port = port or free_port()
    command = [sys.executable, "-m", "sandbox", "serve", "--workers", str(workers), "--port", str(port), *extra]
    environment = {k: v for k, v in os.environ.items() if k != "WA_SANDBOX_WORKERS"}
    process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, process, _admin_headers(extra))
        yield base, process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _admin_headers(flags: Sequence[str]) -> dict[str, str]:
    token = next((flags[i + 1] for i, flag in enumerate(flags[:-1]) if flag == "--admin-token"), None)
    return {"authorization": f"Bearer {token}"} if token else {}


def _wait_healthy(base: str, process: subprocess.Popen[bytes], headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode} while starting")
        try:
            if httpx.get(f"{base}/_sandbox/health", headers=headers, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not become healthy within 60 s")
        # A real process starting, not simulated time.
        threading.Event().wait(0.2)
