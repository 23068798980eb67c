"""What the load command and the benchmarks share to start the sandbox in its own process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

from sandbox.testing import free_port

HOST = "127.0.0.1"

__all__ = ["HOST", "free_port", "sandbox_argv", "stat_fields", "stop_group", "tree_cpu_seconds"]


def sandbox_argv(port: int, host: str = HOST) -> list[str]:
    """`python -m sandbox serve` on a loopback port, quiet (no uvicorn log, no console lines): the process a load run
    or a benchmark measures."""
    return [
        *(sys.executable, "-m", "sandbox", "serve", "--host", host, "--port", str(port)),
        *("--log-level", "warning", "--quiet"),
    ]


def stat_fields(text: str) -> tuple[int, int, int]:
    """(ppid, utime, stime) in clock ticks from one `/proc/<pid>/stat` line; the command name, in parentheses, may
    itself hold spaces and parentheses, so the fields are counted from its last `)`."""
    rest = text[text.rindex(")") + 2 :].split()
    return int(rest[1]), int(rest[11]), int(rest[12])


def tree_cpu_seconds(pid: int, proc: str = "/proc") -> float:
    """User + system CPU seconds of `pid` and every living descendant (a JVM's threads, a launcher's child), from
    /proc/<pid>/stat: sampled before and after a round, the difference is the server's CPU over that round."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(f"{proc}/{entry}/stat") as handle:
                ppid, utime, stime = stat_fields(handle.read())
        except (OSError, ValueError, IndexError):
            continue  # gone between listing and reading
        parents[int(entry)], ticks[int(entry)] = ppid, utime + stime
    children: dict[int, list[int]] = {}
    for child, ppid in parents.items():
        children.setdefault(ppid, []).append(child)
    family, frontier = {pid}, [pid]
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in family:
                family.add(child)
                frontier.append(child)
    return sum(ticks.get(member, 0) for member in family) / os.sysconf("SC_CLK_TCK")


def stop_group(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM to the process group of a child started with `start_new_session`, SIGKILL after `grace` seconds."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
