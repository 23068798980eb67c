"""What a load run says while it runs (on stderr, so the report on stdout stays clean): each process up, then every
few seconds the seconds elapsed and the sends accepted per second, then the drain and where the report is."""

from __future__ import annotations

import csv
import io
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

# Read from the end of locust's history CSV only: it grows by a few rows a second for the whole run.
_TAIL_BYTES = 64 * 1024


def say(text: str, stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    out.write(f"wa-sandbox load: {text}\n")
    out.flush()


def accepted_so_far(history: Path, name: str) -> int | None:
    """Sends under `name` locust counted without failure, from the last row of its stats history; None before any."""
    try:
        with history.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - _TAIL_BYTES))
            tail = handle.read().decode(errors="replace")
            handle.seek(0)
            header = handle.readline().decode(errors="replace")
    except OSError:
        return None
    body = tail.split("\n", 1)[1] if size > _TAIL_BYTES else tail.split("\n", 1)[-1]
    latest = None
    for row in csv.DictReader(io.StringIO(body), fieldnames=next(csv.reader([header]))):
        if row.get("Name") == name:
            latest = row
    if latest is None:
        return None
    try:
        return int(latest["Total Request Count"]) - int(latest["Total Failure Count"])
    except (KeyError, TypeError, ValueError):
        return None


class Ticker:
    """Every `every` seconds of load: `12/60 s  81 accepted/s (972 so far)`, until stopped."""

    def __init__(self, duration: float, history: Path, name: str, every: float = 5.0) -> None:
        self.duration = duration
        self.history = history
        self.name = name
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-progress", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        started = time.monotonic()
        last_count, last_at = 0, started
        while not self._stop.wait(self.every):
            now = time.monotonic()
            elapsed = min(now - started, self.duration)
            count = accepted_so_far(self.history, self.name)
            if count is None:
                say(f"{elapsed:.0f}/{self.duration:.0f} s  (no sends counted yet)")
                last_at = now
                continue
            rate = (count - last_count) / max(now - last_at, 1e-9)
            say(f"{elapsed:.0f}/{self.duration:.0f} s  {rate:,.0f} accepted/s ({count:,} so far)")
            last_count, last_at = count, now
