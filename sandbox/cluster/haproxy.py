"""HAProxy in front of the shards: its configuration, its process, and its token map over the runtime API.

Routing, in the order the generated configuration applies it (docs/deployment.md, "How a call finds its shard"):

1. `/_sandbox/...` goes to the coordinator (Python; not the hot path).
2. The call's access token (`Authorization: Bearer|OAuth <token>`, else `?access_token=`), hashed with SHA-256, is
   looked up in `tokens.map`: every token the shards hold, kept by the coordinator with `add map`/`del map` and
   rewritten on disk so that a restarted HAProxy starts with it.
3. Else the two characters after `EAA` (`sandbox.ids.shard_tag`) name the shard that minted the token: tokens
   minted after the map was last synced (or through any future Graph call) still reach their shard.
4. Anything else (no token, an unknown one) goes to shard 0, which answers Graph's own 190 error.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from sandbox.errors import GraphError, GraphErrorCode
from sandbox.ids import TAG_LENGTH, TAG_OFFSET, shard_tag

HAPROXY = "haproxy"
# One runtime API connection carries this many `add map`/`del map` commands.
COMMANDS_PER_CONNECTION = 200
# What a Graph call gets when its shard is down: Graph's code 2, the one Meta documents for downtime.
SHARD_DOWN_FBTRACE = "AShardUnavailable000000"


def haproxy_binary() -> str | None:
    return shutil.which(HAPROXY) or (f"/usr/sbin/{HAPROXY}" if os.access(f"/usr/sbin/{HAPROXY}", os.X_OK) else None)


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def backend(index: int) -> str:
    return f"shard{index:02d}"


def _http_file(status: int, reason: str, body: dict[str, object]) -> str:
    payload = orjson.dumps(body).decode()
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        f"Connection: close\r\n\r\n{payload}"
    )


def config(
    run_dir: Path,
    front_fd: int,
    control: Address,
    shards: Sequence[Address],
    *,
    read_timeout: float,
    keep_alive: int,
    max_connections: int,
) -> str:
    """The configuration of the front; writes the map and error files it names into `run_dir`."""
    tokens = run_dir / "tokens.map"
    tags = run_dir / "tags.map"
    if not tokens.exists():
        tokens.write_text("")
    tags.write_text("".join(f"{shard_tag(i, len(shards))} {backend(i)}\n" for i in range(len(shards))))
    down = GraphError(GraphErrorCode.API_SERVICE, None, message="(#2) Service temporarily unavailable")
    (run_dir / "shard-down.http").write_text(_http_file(503, "Service Unavailable", down.envelope(SHARD_DOWN_FBTRACE)))
    control_down = {"error": {"message": "the coordinator is not answering", "type": "SandboxError", "code": 503}}
    (run_dir / "control-down.http").write_text(_http_file(503, "Service Unavailable", control_down))
    timeout = f"{max(1, round(read_timeout * 1000))}ms"
    lines = [
        "global",
        f"  stats socket {run_dir / 'admin.sock'} mode 600 level admin",
        f"  maxconn {max_connections * 2}",
        "defaults",
        "  mode http",
        "  timeout connect 5s",
        f"  timeout client {timeout}",
        f"  timeout http-request {timeout}",
        f"  timeout http-keep-alive {keep_alive}s",
        # A tenant's creation may wait on its callback's handshake; a media upload may be large.
        "  timeout server 120s",
        "  option http-keep-alive",
        "frontend graph",
        f"  bind fd@{front_fd}",
        f"  maxconn {max_connections}",
        "  http-request set-var(txn.token) req.hdr(authorization),word(2,' ') "
        "if { req.hdr(authorization) -m reg -i ^(bearer|oauth)\\  }",
        "  http-request set-var(txn.token) url_param(access_token),url_dec if !{ var(txn.token) -m found }",
        f"  http-request set-var(txn.shard) var(txn.token),sha2(256),hex,map({tokens}) "
        "if { var(txn.token) -m found }",
        f"  http-request set-var(txn.shard) var(txn.token),bytes({TAG_OFFSET},{TAG_LENGTH}),map({tags}) "
        "if !{ var(txn.shard) -m found } { var(txn.token) -m found }",
        "  use_backend control if { path_beg /_sandbox/ } || { path /_sandbox }",
        "  use_backend %[var(txn.shard)] if { var(txn.shard) -m found }",
        f"  default_backend {backend(0)}",
        "backend control",
        f"  errorfile 503 {run_dir / 'control-down.http'}",
        f"  server control {control}",
    ]
    for index, address in enumerate(shards):
        lines += [
            f"backend {backend(index)}",
            f"  errorfile 503 {run_dir / 'shard-down.http'}",
            f"  server {backend(index)} {address}",
        ]
    return "\n".join(lines) + "\n"


def start(binary: str, config_path: Path, pass_fds: Iterable[int]) -> subprocess.Popen[bytes]:
    """HAProxy in the foreground (`-db`), checked first so that a bad configuration fails with HAProxy's words."""
    check = subprocess.run(
        [binary, "-c", "-q", "-f", str(config_path)], capture_output=True, pass_fds=tuple(pass_fds), check=False
    )
    if check.returncode != 0:
        raise RuntimeError(f"haproxy refused its configuration: {check.stderr.decode(errors='replace').strip()}")
    return subprocess.Popen([binary, "-db", "-f", str(config_path)], pass_fds=tuple(pass_fds))


ADMIN_SOCKET_TRIES = 150  # 15 s


class TokenMap:
    """The front's token → shard map: HAProxy's copy (runtime API) and the file it reads when it starts."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "tokens.map"
        self.socket = run_dir / "admin.sock"
        self.entries: dict[str, str] = {}

    async def replace_shard(self, index: int, keys: Iterable[str]) -> None:
        """Make `keys` exactly the tokens of shard `index`."""
        name = backend(index)
        wanted = set(keys)
        commands = [
            f"del map {self.path} {key}" for key, owner in self.entries.items() if owner == name and key not in wanted
        ]
        commands += [
            f"{'set' if key in self.entries else 'add'} map {self.path} {key} {name}"
            for key in sorted(wanted)
            if self.entries.get(key) != name
        ]
        for key, owner in list(self.entries.items()):
            if owner == name and key not in wanted:
                del self.entries[key]
        for key in wanted:
            self.entries[key] = name
        if not commands:
            return
        self._write()
        for start_at in range(0, len(commands), COMMANDS_PER_CONNECTION):
            await self._send(commands[start_at : start_at + COMMANDS_PER_CONNECTION])

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """The admin socket; right after HAProxy starts (on a busy machine) it may not be bound or listening yet."""
        for _ in range(ADMIN_SOCKET_TRIES - 1):
            try:
                return await asyncio.open_unix_connection(str(self.socket))
            except (FileNotFoundError, ConnectionRefusedError):
                await asyncio.sleep(0.1)  # HAProxy starting: real time, not a tenant's
        return await asyncio.open_unix_connection(str(self.socket))

    def _write(self) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text("".join(f"{key} {owner}\n" for key, owner in self.entries.items()))
        temporary.replace(self.path)

    async def _send(self, commands: list[str]) -> None:
        reader, writer = await self._connect()
        try:
            writer.write(("; ".join(commands) + "\n").encode())
            await writer.drain()
            answer = (await reader.read()).decode(errors="replace")
        finally:
            writer.close()
        refused = [line for line in answer.splitlines() if line.strip() and "nknown" in line]
        if refused:
            raise RuntimeError(f"haproxy's runtime API refused a map change: {refused[0]}")
