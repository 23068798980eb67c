"""`wa-sandbox serve --workers N`: N shards on loopback, started here, behind the front on the server's address."""

from __future__ import annotations

import subprocess
import sys

from sandbox.cluster import front
from sandbox.cluster.shard import DEFAULT_TENANT
from sandbox.ids import shard_for
from sandbox.settings import Settings


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
                environment = front.child_environment(settings, index, count, index == owner)
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
