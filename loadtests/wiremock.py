"""WireMock's static stub of the send call: the peer a user would otherwise pick, as a yardstick for bench_send_path.

WireMock comes from npm (package `wiremock`, which bundles the standalone jar; its `npm-java-runner` launcher does no
more than `java -jar` it), installed once under `~/.cache/wa-sandbox/wiremock` (or `$XDG_CACHE_HOME`), and runs
here as `java -jar` directly so that the process measured is the JVM itself. It needs java 11+ and, for the first
install, npm and the npm registry. The stub answers every `POST /{version}/{id}/messages` with the body and the
fixed headers of the sandbox's own send answer; request journal and request logging are off, WireMock's fastest
configuration, so the comparison is as hard on the sandbox as it can be.

The JVM's JIT keeps speeding WireMock up for minutes: bench_send_path drives it for `--wiremock-warmup` seconds
(stated in its output) before the measured rounds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from loadtests.processes import stop_group

VERSION = "3.13.2"
JAVA_MIN = 11
DEFAULT_WARMUP_S = 60.0
# The sandbox's answer to a template send, byte for byte apart from the ids (tests/loadtests checks the shape).
SEND_RESPONSE = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "+16500000001", "wa_id": "16500000001"}],
    "messages": [{"id": "wamid.HBgLMTY1MDAwMDAwMDEVAgARGBI3MDNCN0QzMEFCNkY2Q0RFNDQA", "message_status": "accepted"}],
}
RESPONSE_HEADERS = {
    "Content-Type": "application/json; charset=UTF-8",
    "Cache-Control": "private, no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "Sat, 01 Jan 2000 00:00:00 GMT",
    "Access-Control-Allow-Origin": "*",
    "facebook-api-version": "v23.0",
}
URL_PATTERN = r"/v[0-9]+\.[0-9]+/[^/]+/messages"


class Unavailable(RuntimeError):
    """WireMock cannot run here (no java, no npm, no registry); the message says which."""


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wa-sandbox" / "wiremock"


def stub_mapping() -> dict[str, Any]:
    """The one mapping of the stub (mappings/send.json in WireMock's root directory)."""
    return {
        "request": {"method": "POST", "urlPathPattern": URL_PATTERN},
        "response": {"status": 200, "headers": RESPONSE_HEADERS, "body": orjson.dumps(SEND_RESPONSE).decode()},
    }


def installed_jar(cache: Path) -> Path | None:
    build = cache / "node_modules" / "wiremock" / "build"
    jars = sorted(build.glob(f"wiremock-standalone-{VERSION}.jar")) if build.is_dir() else []
    return jars[0] if jars else None


def java_major(version_output: str) -> int | None:
    """The major version from `java -version`'s first line: `openjdk version "17.0.15"` -> 17, `"1.8.0_392"` -> 8."""
    found = re.search(r'version "(\d+)(?:\.(\d+))?', version_output)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def check_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise Unavailable("no java on PATH (WireMock needs java 11+; apt-get install openjdk-17-jre-headless)")
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    major = java_major(out.stderr + out.stdout)
    if major is None or major < JAVA_MIN:
        raise Unavailable(f"java {major} found, WireMock needs {JAVA_MIN}+")
    return java


def install(cache: Path | None = None) -> Path:
    """The bundled jar, installing `wiremock@VERSION` from npm into the cache first if it is not there yet."""
    cache = cache or cache_dir()
    jar = installed_jar(cache)
    if jar is not None:
        return jar
    npm = shutil.which("npm")
    if npm is None:
        raise Unavailable("no npm on PATH to install WireMock from the npm registry")
    cache.mkdir(parents=True, exist_ok=True)
    argv = [npm, "install", "--prefix", str(cache), "--no-save", "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        done = subprocess.run([*argv, f"wiremock@{VERSION}"], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        raise Unavailable("npm install wiremock took more than 300 s") from None
    jar = installed_jar(cache)
    if done.returncode != 0 or jar is None:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise Unavailable(f"npm install wiremock@{VERSION} failed: {said[-1] if said else done.returncode}")
    return jar


def argv(java: str, jar: Path, port: int, root: Path, journal: bool = False) -> list[str]:
    """`journal` keeps WireMock's defaults (request journal, request logging); the bench's client needs a
    Content-Length either way, so chunked encoding is off."""
    quiet = () if journal else ("--no-request-journal", "--disable-request-logging")
    return [
        *(java, "-jar", str(jar), "--port", str(port), "--bind-address", "127.0.0.1"),
        *("--root-dir", str(root), "--disable-banner", *quiet, "--use-chunked-encoding", "never"),
    ]


@dataclass
class WireMock:
    """A running stub; `process` is the JVM (start_new_session, so stopping its group stops everything)."""

    process: subprocess.Popen[bytes]
    port: int
    root: tempfile.TemporaryDirectory[str] = field(repr=False)
    name: str = "wiremock"

    def stop(self) -> None:
        stop_group(self.process, 15.0)
        self.root.cleanup()


def start(port: int, boot_seconds: float = 90.0, journal: bool = False) -> WireMock:
    """Install if needed, write the mapping, start WireMock on 127.0.0.1:`port` and wait for a 200 from the stub."""
    java = check_java()
    jar = install()
    root = tempfile.TemporaryDirectory(prefix="wa-wiremock-")
    mappings = Path(root.name) / "mappings"
    mappings.mkdir()
    (Path(root.name) / "__files").mkdir()
    (mappings / "send.json").write_bytes(orjson.dumps(stub_mapping(), option=orjson.OPT_INDENT_2))
    process = subprocess.Popen(
        argv(java, jar, port, Path(root.name), journal),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + boot_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            root.cleanup()
            raise Unavailable(f"WireMock exited with {process.returncode} while starting")
        if _answers(port):
            return WireMock(process, port, root)
        threading.Event().wait(0.2)  # a JVM starting: real time, outside any tenant
    process.kill()
    process.wait(5)
    root.cleanup()
    raise Unavailable(f"WireMock did not answer within {boot_seconds:.0f} s")


def _answers(port: int) -> bool:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v23.0/1/messages",
        data=b"{}",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # loopback only
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


def summary(sandbox: list[dict[str, float]], wiremock: list[dict[str, float]], warmup_s: float) -> str:
    """The sandbox against WireMock, round by round: throughput ratio and requests per server CPU-second ratio."""
    import statistics

    ratios = [s["req_s"] / w["req_s"] for s, w in zip(sandbox, wiremock, strict=True)]
    per_core = [s["req_per_core_s"] / w["req_per_core_s"] for s, w in zip(sandbox, wiremock, strict=True)]
    core = statistics.median(per_core)
    return (
        f"WireMock {VERSION} static stub {statistics.median(r['req_s'] for r in wiremock):,.0f} req/s (median), "
        f"server CPU {statistics.median(r['server_cpu_pct'] for r in wiremock):.0f} %, "
        f"{statistics.median(r['req_per_core_s'] for r in wiremock):,.0f} req per CPU-second "
        f"(JIT warmed for {warmup_s:.0f} s)\n"
        f"ratio sandbox/WireMock: {statistics.median(ratios):.3f} (per round: {', '.join(f'{r:.3f}' for r in ratios)})"
        f"; per server core: {core:.3f} (per round: {', '.join(f'{r:.3f}' for r in per_core)})\n"
        f"target >= 1 x WireMock per server core: {'met' if core >= 1 else 'NOT met'}\n"
    )
