"""Hosts made of Linux network namespaces, to rehearse a deployment over several machines on one (needs root).

`Hosts` builds N namespaces, each with one veth interface on a private /24 (`10.213.<n>.0/24` by default), all
plugged into a bridge that lives in one more namespace (the "switch"): nothing is added to the calling namespace,
so traffic between the hosts stays inside them. Processes run in a host with `ip netns exec`, which execs the
command in place (the pid Popen reports is the process). Removing the namespaces removes their interfaces.

    python -m loadtests.netns load [--duration 30 --rate 400]

builds three hosts (h0: the front, the locust master and the webhook sink; h1: shard 0; h2: shard 1 and a locust
worker), runs `wa-sandbox load` across them, prints its report and tears everything down
(docs/deployment.md, "Rehearsed on one machine").
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ADMIN_TOKEN = "netns-rehearsal-admin-token"
PORT = 8000


class NotPermitted(RuntimeError):
    """`ip netns` cannot be used here (not root, no iproute2, or a container without CAP_SYS_ADMIN)."""


def _ip(*args: str, namespace: str | None = None) -> None:
    argv = ["ip", *(("-n", namespace) if namespace else ()), *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")


def check_permitted() -> None:
    """Raises NotPermitted with the reason when namespaces cannot be made here."""
    if shutil.which("ip") is None:
        raise NotPermitted("no `ip` command (apt-get install iproute2)")
    probe = f"wa-probe-{os.getpid()}"
    done = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise NotPermitted(f"`ip netns add` is not permitted here: {done.stderr.strip()}")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=30)


@dataclass
class Hosts:
    """N namespace hosts on one private subnet; `address(i)` is host i's, `run(i, argv)` starts a process in it."""

    count: int
    subnet: int = field(default_factory=lambda: 100 + os.getpid() % 150)
    tag: str = field(default_factory=lambda: f"wa{os.getpid() % 100000}")
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    made: list[str] = field(default_factory=list)

    def name(self, index: int) -> str:
        return f"{self.tag}-h{index}"

    @property
    def switch(self) -> str:
        return f"{self.tag}-sw"

    def address(self, index: int) -> str:
        return f"10.213.{self.subnet}.{index + 1}"

    def create(self) -> Hosts:
        try:
            self._create()
        except BaseException:
            self.destroy()
            raise
        return self

    def _create(self) -> None:
        _ip("netns", "add", self.switch)
        self.made.append(self.switch)
        _ip("link", "add", "br0", "type", "bridge", namespace=self.switch)
        _ip("link", "set", "br0", "up", namespace=self.switch)
        for index in range(self.count):
            host = self.name(index)
            _ip("netns", "add", host)
            self.made.append(host)
            _ip("link", "set", "lo", "up", namespace=host)
            # veth names are at most 15 characters: the pair is made in the host, its peer moved to the switch
            inside, outside = f"{self.tag}h{index}", f"{self.tag}p{index}"
            _ip("link", "add", inside, "type", "veth", "peer", "name", outside, namespace=host)
            _ip("link", "set", outside, "netns", self.switch, namespace=host)
            _ip("link", "set", outside, "master", "br0", namespace=self.switch)
            _ip("link", "set", outside, "up", namespace=self.switch)
            _ip("addr", "add", f"{self.address(index)}/24", "dev", inside, namespace=host)
            _ip("link", "set", inside, "up", namespace=host)

    def run(self, index: int, argv: Sequence[str], **popen: object) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(["ip", "netns", "exec", self.name(index), *argv], **popen)  # type: ignore[call-overload]
        self.processes.append(process)
        return process

    def output(self, index: int, argv: Sequence[str], timeout: float = 120) -> str:
        """Run `argv` in host `index` to completion; its stdout (RuntimeError with stderr on failure)."""
        done = subprocess.run(
            ["ip", "netns", "exec", self.name(index), *argv], capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} in {self.name(index)} exited {done.returncode}: {done.stderr[-2000:]}")
        return done.stdout

    def destroy(self) -> None:
        """Stop every process started here (in reverse order), then remove the namespaces."""
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self.processes.clear()
        for name in reversed(self.made):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)
        self.made.clear()


@contextlib.contextmanager
def hosts(count: int) -> Iterator[Hosts]:
    built = Hosts(count).create()
    try:
        yield built
    finally:
        built.destroy()


def sandbox_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sandbox", *args]


def start_cluster(net: Hosts, shard_hosts: Sequence[int], front_host: int, env: dict[str, str]) -> str:
    """Shard i on host shard_hosts[i] and the front on front_host, all on PORT; returns the front's URL once its
    health is 200."""
    shards = []
    for index, host in enumerate(shard_hosts):
        address = net.address(host)
        argv = sandbox_command("serve", "--host", address, "--port", str(PORT), "--quiet", "--log-level", "warning")
        argv += ["--shard-index", str(index), "--shard-count", str(len(shard_hosts)), "--admin-token", ADMIN_TOKEN]
        net.run(host, argv, env=env, stdout=subprocess.DEVNULL)
        shards += ["--shard", f"http://{address}:{PORT}"]
    front = net.address(front_host)
    argv = sandbox_command("front", "--host", front, "--port", str(PORT), "--admin-token", ADMIN_TOKEN, *shards)
    process = net.run(front_host, argv, env=env, stdout=subprocess.DEVNULL)
    url = f"http://{front}:{PORT}"
    probe = (
        "import sys, urllib.request\n"
        f"r = urllib.request.Request('{url}/_sandbox/health', headers={{'Authorization': 'Bearer {ADMIN_TOKEN}'}})\n"
        "try:\n    sys.exit(0 if urllib.request.urlopen(r, timeout=2).status == 200 else 1)\n"
        "except Exception:\n    sys.exit(1)\n"
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the front exited with {process.returncode}")
        if subprocess.run(["ip", "netns", "exec", net.name(front_host), sys.executable, "-c", probe]).returncode == 0:
            return url
        threading.Event().wait(0.5)  # processes starting in other namespaces: real time
    raise RuntimeError("the front did not become healthy within 90 s")


def load_across(arguments: Sequence[str]) -> int:
    """The rehearsal: front + locust master + sink on h0, shard 0 on h1, shard 1 and a locust worker on h2."""
    parser = argparse.ArgumentParser(prog="python -m loadtests.netns load")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=200.0, help="per number; two numbers, one on each shard")
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args(arguments)
    check_permitted()
    env = {**os.environ, "WA_SANDBOX_ADMIN_TOKEN": ADMIN_TOKEN}
    env.pop("WA_SANDBOX_WORKERS", None)
    master_port = 5557
    with hosts(3) as net:
        front = start_cluster(net, [1, 2], 0, env)
        sys.stderr.write(f"netns: front {front}, shards on {net.address(1)} and {net.address(2)}\n")
        load = sandbox_command("load", "--sandbox-url", front, "--numbers", "2", "--rate", str(args.rate))
        load += ["--duration", str(args.duration), "--out", str(args.out.resolve()), "--remote-workers", "1"]
        load += ["--master-host", net.address(0), "--master-port", str(master_port), "--sink-host", net.address(0)]
        runner = net.run(0, load, env=env, stdout=subprocess.PIPE)
        plan = _wait_for_plan(args.out.resolve(), runner)
        worker = [sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py")), "--worker"]
        worker += ["--master-host", net.address(0), "--master-port", str(master_port), "--loglevel", "WARNING"]
        with tempfile_dir() as cwd:
            shutil.copy(plan, Path(cwd) / "plan.json")
            net.run(2, worker, env={**env, "WA_LOAD_PLAN": "plan.json"}, cwd=cwd)
            out, _ = runner.communicate(timeout=args.duration + 900)
        sys.stdout.write(out.decode())
        return runner.returncode


@contextlib.contextmanager
def tempfile_dir() -> Iterator[str]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="wa-netns-worker-") as path:
        yield path


def _wait_for_plan(out: Path, runner: subprocess.Popen[bytes]) -> Path:
    started = time.time()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if runner.poll() is not None:
            raise RuntimeError(f"wa-sandbox load exited with {runner.returncode} before writing its plan")
        plans = [p for p in out.glob("*/plan.json") if p.stat().st_mtime >= started - 1]
        if plans:
            return plans[0]
        threading.Event().wait(0.5)
    raise RuntimeError("wa-sandbox load wrote no plan within 300 s")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] != "load":
        sys.stderr.write("usage: python -m loadtests.netns load [--duration S] [--rate R] [--out DIR]\n")
        return 2
    try:
        return load_across(argv[1:])
    except (NotPermitted, RuntimeError) as error:
        sys.stderr.write(f"netns: {error}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
