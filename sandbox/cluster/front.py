"""`wa-sandbox front --shard URL ...`: HAProxy and the coordinator in front of shards started anywhere.

`serve --workers N` (sandbox/cluster/workers.py) is this same front over N shards it starts itself.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from sandbox.cluster import haproxy
from sandbox.cluster.coordinator import Coordinator
from sandbox.cluster.shard import DEFAULT_TENANT
from sandbox.ids import shard_for
from sandbox.settings import Settings

READY_SECONDS = 60.0


@dataclass
class Front:
    """What runs in front of the shards; `children` are processes to stop with it (HAProxy, own shards)."""

    settings: Settings
    shards: list[str]
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)


def wait_for_shards(shards: Sequence[str], admin_token: str | None, children: Sequence[Any] = ()) -> list[dict]:
    """Each shard's `GET /_sandbox/shard`, once all answer; raises RuntimeError naming the one that does not."""
    headers = {"authorization": f"Bearer {admin_token}"} if admin_token else {}
    documents: list[dict[str, Any]] = []
    deadline = time.monotonic() + READY_SECONDS
    with httpx.Client(timeout=5.0) as http:
        for index, url in enumerate(shards):
            while True:
                for child in children:
                    if child.poll() is not None:
                        raise RuntimeError(f"a shard exited with status {child.returncode} while starting")
                try:
                    answer = http.get(f"{url}/_sandbox/shard", headers=headers)
                    if answer.status_code == 200:
                        documents.append(answer.json())
                        break
                    raise RuntimeError(f"shard {url} answered {answer.status_code}: {answer.text[:200]}")
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"shard {url} did not answer within {READY_SECONDS:g} s") from None
                    # Waiting on a real process, not on simulated time.
                    threading.Event().wait(0.1)
            document = documents[-1]
            if (document["index"], document["count"]) != (index, len(shards)):
                raise RuntimeError(
                    f"shard {url} is shard {document['index']} of {document['count']}, but is listed as "
                    f"{index} of {len(shards)}: start it with --shard-index {index} --shard-count {len(shards)}"
                )
    return documents


def run(front: Front) -> int:
    """Start HAProxy on the front's address and serve the coordinator until interrupted; stop every child."""
    try:
        return _run(front)
    finally:
        stop(front.children)


def _run(front: Front) -> int:
    import uvicorn

    from sandbox.cli import bind_failure, bind_listener
    from sandbox.server import uvicorn_config

    settings = front.settings
    binary = haproxy.haproxy_binary()
    if binary is None:
        sys.stderr.write("wa-sandbox: several workers need HAProxy: apt-get install haproxy\n")
        return 1
    try:
        listener = bind_listener(settings.host, settings.port)
    except OSError as error:
        sys.stderr.write(f"wa-sandbox: {bind_failure(settings.host, settings.port, error)}\n")
        return 1
    control = bind_listener("127.0.0.1", 0)
    port = listener.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="wa-sandbox-front-") as run_dir, control:
        path = Path(run_dir)
        text = haproxy.config(
            path,
            listener.fileno(),
            haproxy.Address("127.0.0.1", control.getsockname()[1]),
            [_address(url) for url in front.shards],
            read_timeout=settings.read_timeout,
            keep_alive=settings.timeout_keep_alive,
            max_connections=settings.limit_concurrency,
        )
        (path / "haproxy.cfg").write_text(text)
        coordinator = Coordinator(front.shards, settings.admin_token, haproxy.TokenMap(path))
        try:
            front.children.append(haproxy.start(binary, path / "haproxy.cfg", [listener.fileno()]))
        except RuntimeError as error:
            sys.stderr.write(f"wa-sandbox: {error}\n")
            return 1
        finally:
            listener.close()  # HAProxy holds it now
        sys.stdout.write(banner(replace(settings, port=port), front.shards) + "\n\n")
        sys.stdout.flush()
        config = uvicorn_config(coordinator, settings, host="127.0.0.1", port=control.getsockname()[1], lifespan="on")
        uvicorn.Server(config).run(sockets=[control])
    return 0


def stop(children: Sequence[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def banner(settings: Settings, shards: Sequence[str]) -> str:
    from sandbox.ui.views import curl_lines

    base = f"http://{settings.host}:{settings.port}"
    lines = [
        f"wa-sandbox front listening on {base}  (HAProxy; control plane {base}/_sandbox/)",
        f"  dashboard         {base}/_sandbox/ui/",
        *(f"  shard {index:<11} {url}" for index, url in enumerate(shards)),
    ]
    owner = shards[shard_for(DEFAULT_TENANT, len(shards))]
    headers = {"authorization": f"Bearer {settings.admin_token}"} if settings.admin_token else {}
    answer = httpx.get(f"{owner}/_sandbox/tenants/{DEFAULT_TENANT}", headers=headers, timeout=5.0)
    if answer.status_code == 200:
        doc = answer.json()
        lines += [
            "",
            f"  tenant            {doc['id']} (profile {doc['profile']}, seed {doc['seed']})",
            f"  access token      {doc['access_token']}",
            f"  phone number id   {doc.get('phone_number_id', '-')}",
            f"  WABA id           {doc['waba_id']}",
            f"  app secret        {doc['app_secret']}",
        ]
        if "phone_number_id" in doc:
            lines += ["", "Send a message:", *(f"  {line}" for line in curl_lines(base, doc))]
    return "\n".join(lines)


def _address(url: str) -> haproxy.Address:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname or parts.port is None:
        raise ValueError(f"a shard is http://HOST:PORT, not {url!r}")
    return haproxy.Address(parts.hostname, parts.port)


def front_command(arguments: argparse.Namespace) -> int:
    from sandbox.cli import settings_from

    try:
        settings = settings_from(arguments)
        shards = [url.rstrip("/") for url in arguments.shard]
        for url in shards:
            _address(url)
        wait_for_shards(shards, settings.admin_token)
    except (ValueError, RuntimeError) as error:
        sys.stderr.write(f"wa-sandbox: {error}\n")
        return 2
    return run(Front(settings, shards))


def register(commands: Any) -> None:
    from sandbox.cli import _serve_arguments

    parser = commands.add_parser(
        "front",
        help="one address (HAProxy) in front of shards started with serve --shard-index/--shard-count",
        description="HAProxy and the control plane's coordinator in front of shards on any host (docs/deployment.md).",
    )
    parser.add_argument(
        "--shard", action="append", required=True, metavar="URL", help="a shard, http://HOST:PORT, in index order"
    )
    _serve_arguments(parser)
    parser.set_defaults(handler=front_command)
