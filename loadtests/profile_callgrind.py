"""Count the instructions one accepted message costs, with `valgrind --tool=callgrind`, and show where they go.

    .venv/bin/python -m loadtests.profile_callgrind [--counts 300 900] [--cases a b] [--top 20] [--python]

Two cases, each driven in process through the ASGI app by `loadtests.profile_paths` (frozen tenant clock, 1 ms
per send, scheduled progression, then 20 s more so that every status falls due):

- `a`: one send whose sent/delivered/read statuses nobody receives (no callback URL);
- `b`: one send with its three status webhooks delivered (a callback URL; a transport that answers 200 after one
  trip through the event loop, so the outbox, rendering, signing and the workers run, but no socket).

Each case runs twice under callgrind, with two message counts, and everything is differenced: start-up, imports,
the tenant and its recipients' windows cancel out, and what is left is per message. Printed: instructions per
accepted message, and the C functions with the most inclusive and self instructions per message
(`callgrind_annotate`, differenced the same way). Python code shows up as the interpreter's functions; `--python`
adds a cProfile run of the same loop (outside valgrind) for the Python functions' own time per message.
Callgrind counts instructions whatever else the box is doing, so figures from a busy box compare with a quiet one.
The cyclic GC is disabled in the measured processes (the server raises its thresholds while it serves; one full
collection inside one run of a pair would move its difference by more than the changes being measured).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CASES = {
    "a": "one send, scheduled progression, no callback URL",
    "b": "one send and its three status webhooks delivered",
}
RECIPIENTS = 300
# `callgrind_annotate` lines: "  1,234,567 (12.34%)  file:function [object]" (the percentage only in some versions).
_LINE = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(?:\*\s+)?(\S.*?)\s*$")
_TOTALS = re.compile(r"^(?:summary|totals):\s+(\d+)", re.MULTILINE)


def _child(case: str, messages: int) -> None:
    from loadtests import profile_paths

    gc.collect()
    gc.freeze()
    gc.disable()
    asyncio.run(profile_paths.run(messages, case == "b", None, "scheduled", recipients=RECIPIENTS, settle=20.0))
    # No interpreter shutdown: its final collection walks every object still alive, which grows with the message
    # count and would be counted as work per message.
    sys.stdout.flush()
    os._exit(0)


def _callgrind(case: str, messages: int, out_dir: Path, reuse: bool = False) -> Path:
    out = out_dir / f"callgrind.{case}.{messages}"
    if reuse and out.exists():
        return out
    command = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
        sys.executable,
        "-m",
        "loadtests.profile_callgrind",
        "--child",
        case,
        str(messages),
    ]
    # A fixed hash seed: set and dict orders, and so the instruction counts, repeat from run to run.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return out


def total(out: Path) -> int:
    found = _TOTALS.search(out.read_text(errors="replace"))
    if found is None:
        raise RuntimeError(f"{out}: no totals line")
    return int(found.group(1))


def costs(out: Path, inclusive: bool) -> dict[str, int]:
    """Instructions by function (`file:function`), inclusive or self, as callgrind_annotate reports them."""
    text = subprocess.run(
        ["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}", "--threshold=100", str(out)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found: dict[str, int] = {}
    in_table = False
    for line in text.splitlines():
        if "file:function" in line:
            in_table = True
            continue
        if not in_table or not line.strip() or line.startswith("--"):
            continue
        match = _LINE.match(line)
        if match is None:
            continue
        name = match.group(2)
        if "'" in name:  # a recursion level (`'2`): its costs are its outermost call's too
            continue
        obj = re.search(r"\s+\[([^\]]*)\]$", name)
        name = name[: obj.start()] if obj else name
        if obj and name.startswith(("0x", "???:0x")):  # no symbol: the shared object says whose code it is
            name = f"{name.split(':')[-1]} in {Path(obj.group(1)).name}"
        found[name] = found.get(name, 0) + int(match.group(1).replace(",", ""))
    return found


def per_message(small: dict[str, int], large: dict[str, int], messages: int) -> list[tuple[str, float]]:
    names = set(small) | set(large)
    rows = [(name, (large.get(name, 0) - small.get(name, 0)) / messages) for name in names]
    return sorted(rows, key=lambda row: -row[1])


def _below_eval(rows: list[tuple[str, float]], per: float) -> list[tuple[str, float]]:
    """Inclusive rows without the process's own frames (main, the interpreter loop, the event loop's entry),
    each of which holds nearly everything."""
    return [row for row in rows if row[1] < 0.9 * per]


def _short(name: str) -> str:
    file, _, function = name.rpartition(":")
    return f"`{function}` ({Path(file).name})" if file and file != "???" else f"`{function}`"


def table(title: str, rows: list[tuple[str, float]], per: float, top: int) -> str:
    lines = [f"| {title} | instructions per message | share |", "| --- | ---: | ---: |"]
    for name, value in rows[:top]:
        lines.append(f"| {_short(name)} | {value:,.0f} | {100 * value / per:.1f} % |")
    return "\n".join(lines)


def python_table(case: str, messages: int, top: int) -> str:
    from loadtests import profile_paths

    profiler = cProfile.Profile()
    gc.collect()
    gc.freeze()
    gc.disable()
    asyncio.run(profile_paths.run(messages, case == "b", profiler, "scheduled", recipients=RECIPIENTS, settle=20.0))
    gc.enable()
    stats = pstats.Stats(profiler)
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])  # type: ignore[attr-defined]
    overall = sum(item[1][2] for item in rows)
    lines = ["| Python function (cProfile, own time) | calls per message | µs per message | share |"]
    lines.append("| --- | ---: | ---: | ---: |")
    for (file, line, function), (_, calls, own, _, _) in rows[:top]:
        where = f"{Path(file).name}:{line}" if line else file
        share = 100 * own / overall
        each = own / messages * 1e6
        lines.append(f"| `{function}` ({where}) | {calls / messages:.1f} | {each:.2f} | {share:.1f} % |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.profile_callgrind", description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs=2, default=[300, 900], metavar=("SMALL", "LARGE"))
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=sorted(CASES))
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--python", action="store_true", help="also a cProfile table of Python functions")
    parser.add_argument("--keep", metavar="DIR", help="keep the callgrind files here (default: a temporary dir)")
    parser.add_argument("--jobs", type=int, default=2, help="valgrind runs at once")
    parser.add_argument("--reuse", action="store_true", help="with --keep: read the callgrind files already there")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child[0], int(args.child[1]))
        return 0
    small, large = args.counts
    if not 1 <= small < large <= 100_000 or not 1 <= args.top <= 200 or not 1 <= args.jobs <= 8:
        parser.error("counts: 1 <= SMALL < LARGE <= 100000; top 1..200; jobs 1..8")
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        parser.error("valgrind (with callgrind_annotate) is not installed")
    scratch = None if args.keep else tempfile.TemporaryDirectory(prefix="wa-callgrind-")
    out_dir = Path(args.keep or scratch.name)  # type: ignore[union-attr]
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = [(case, count) for case in args.cases for count in (small, large)]
    with ThreadPoolExecutor(args.jobs) as pool:
        outs = dict(zip(runs, pool.map(lambda run: _callgrind(*run, out_dir, args.reuse), runs), strict=True))
    delta = large - small
    for case in args.cases:
        a, b = outs[(case, small)], outs[(case, large)]
        per = (total(b) - total(a)) / delta
        print(f"\n## case {case}: {CASES[case]}\n")
        print(f"instructions per accepted message: {per:,.0f} ({small} and {large} messages differenced)\n")
        inclusive = _below_eval(per_message(costs(a, True), costs(b, True), delta), per)
        print(table("C function, inclusive", inclusive, per, args.top))
        print()
        print(table("C function, self", per_message(costs(a, False), costs(b, False), delta), per, args.top))
        if args.python:
            print()
            print(python_table(case, large, args.top))
        sys.stdout.flush()
    if scratch is not None:
        scratch.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
