"""The report of one load run: accepted messages/s, errors by Graph code, send-call latency, webhook lag, lost or
duplicated webhooks, sandbox CPU and memory; written as CSV, Markdown and a PNG chart into the run directory.

Inputs are files the run left behind: `calls-*.csv` (one row per call, from the locust processes), `webhooks.csv`
and `sink.json` (from the sink), `resources.csv` (psutil samples of the sandbox, sink and locust processes).
"""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from loadtests import shards

PERCENTILES = (50, 90, 95, 99, 99.9)
WEBHOOK_STATUSES = ("sent", "delivered", "read")
WARMUP_SECONDS = 3.0


def pct(values: Sequence[float], point: float) -> float | None:
    """Nearest-rank percentile of already sorted `values`."""
    if not values:
        return None
    rank = max(0, min(len(values) - 1, math.ceil(point / 100 * len(values)) - 1))
    return values[rank]


def percentile_row(values: Iterable[float]) -> dict[str, float | None]:
    ordered = sorted(values)
    row: dict[str, float | None] = {f"p{p:g}": pct(ordered, p) for p in PERCENTILES}
    row["max"] = ordered[-1] if ordered else None
    row["n"] = float(len(ordered))
    return row


@dataclass
class Call:
    t_send: float
    latency_ms: float
    http_status: int
    graph_code: str
    kind: str
    number: str
    wamid: str


@dataclass
class RunData:
    calls: list[Call]
    webhooks: dict[str, list[float]]  # wamid -> [t_send, sent, delivered, read, failed]
    sink: dict[str, Any]
    resources: list[dict[str, float]]
    meta: dict[str, Any] = field(default_factory=dict)


def _float(text: str) -> float:
    return float(text) if text else math.nan


def load_run(run_dir: Path, meta: dict[str, Any]) -> RunData:
    calls: list[Call] = []
    for path in sorted(run_dir.glob("calls-*.csv")):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                calls.append(
                    Call(
                        float(row["t_send"]),
                        float(row["latency_ms"]),
                        int(row["http_status"]),
                        row["graph_code"],
                        row["kind"],
                        row["number"],
                        row["wamid"],
                    )
                )
    calls.sort(key=lambda call: call.t_send)
    webhooks: dict[str, list[float]] = {}
    records = run_dir / "webhooks.csv"
    if records.exists():
        with records.open(newline="") as handle:
            for row in csv.DictReader(handle):
                webhooks[row["wamid"]] = [
                    _float(row[k]) for k in ("t_send", "t_sent", "t_delivered", "t_read", "t_failed")
                ]
    sink_path = run_dir / "sink.json"
    sink = orjson.loads(sink_path.read_bytes()) if sink_path.exists() else {}
    resources: list[dict[str, float]] = []
    resources_path = run_dir / "resources.csv"
    if resources_path.exists():
        with resources_path.open(newline="") as handle:
            resources = [{k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)]
    return RunData(calls, webhooks, sink, resources, meta)


def summarize(data: RunData) -> dict[str, Any]:
    """Every figure of the report, as plain values (also written to summary.csv)."""
    meta = data.meta
    sends = [c for c in data.calls if c.kind != "inbound"]
    inbound = [c for c in data.calls if c.kind == "inbound"]
    accepted = [c for c in sends if c.http_status == 200 and c.wamid]
    start = meta.get("load_started_at") or (data.calls[0].t_send if data.calls else 0.0)
    end = meta.get("load_ended_at") or (data.calls[-1].t_send if data.calls else 0.0)
    duration = max(1e-9, end - start)

    per_second: dict[int, Counter[str]] = defaultdict(Counter)
    for call in sends:
        second = int(call.t_send - start)
        per_second[second]["offered"] += 1
        per_second[second]["accepted" if call.http_status == 200 and call.wamid else "rejected"] += 1
    seconds = sorted(s for s in per_second if WARMUP_SECONDS <= s < int(duration) - 1)
    steady = [per_second[s]["accepted"] for s in seconds]
    steady_offered = [per_second[s]["offered"] for s in seconds]

    errors: Counter[str] = Counter()
    for call in data.calls:
        if call.http_status != 200:
            errors[f"{call.graph_code or '-'} (HTTP {call.http_status})"] += 1

    lags: dict[str, list[float]] = {status: [] for status in WEBHOOK_STATUSES}
    missing: Counter[str] = Counter()
    failed_async = 0
    for call in accepted:
        record = data.webhooks.get(call.wamid)
        if record is None:
            for status in WEBHOOK_STATUSES:
                missing[status] += 1
            continue
        if record[4] == record[4]:
            failed_async += 1
            continue
        for slot, status in enumerate(WEBHOOK_STATUSES, start=1):
            if record[slot] == record[slot]:
                lags[status].append((record[slot] - call.t_send) * 1000)
            else:
                missing[status] += 1
    accepted_ids = {call.wamid for call in accepted}
    unexpected = sum(1 for wamid in data.webhooks if wamid not in accepted_ids)

    # a sandbox running elsewhere (--sandbox-url) has no local samples: its processes' figures are in meta
    sandbox_cpu = [r["sandbox_cpu"] for r in data.resources if start <= r["t"] <= end and "sandbox_cpu" in r]
    rss = [r["sandbox_rss_mb"] for r in data.resources if "sandbox_cpu" in r]
    counts = data.sink.get("counts", {})
    summary: dict[str, Any] = {
        "profile": meta.get("profile"),
        "numbers": meta.get("numbers"),
        "offered_rate_per_number": meta.get("rate"),
        "throughput_level": meta.get("throughput_level"),
        "duration_s": round(duration, 2),
        "send_calls": len(sends),
        "accepted": len(accepted),
        "accepted_per_s_overall": round(len(accepted) / duration, 2),
        "accepted_per_s_steady_mean": round(sum(steady) / len(steady), 2) if steady else None,
        "accepted_per_s_steady_min": min(steady) if steady else None,
        "accepted_per_s_steady_max": max(steady) if steady else None,
        "offered_per_s_steady_mean": round(sum(steady_offered) / len(steady_offered), 2) if steady_offered else None,
        "rejected": len(sends) - len(accepted),
        "inbound_calls": len(inbound),
        "inbound_accepted": sum(1 for c in inbound if c.http_status == 200),
        "errors": dict(errors.most_common()),
        "send_latency_ms": percentile_row(c.latency_ms for c in accepted),
        "send_latency_all_ms": percentile_row(c.latency_ms for c in sends),
        "inbound_latency_ms": percentile_row(c.latency_ms for c in inbound),
        "webhook_lag_ms": {status: percentile_row(values) for status, values in lags.items()},
        "webhooks_missing": {status: missing[status] for status in WEBHOOK_STATUSES},
        "webhooks_failed_async": failed_async,
        "webhooks_duplicated": data.sink.get("duplicates", {}),
        "webhooks_unexpected_wamids": unexpected,
        "webhooks_received": {k: counts.get(k, 0) for k in ("posts", *WEBHOOK_STATUSES, "failed", "inbound_messages")},
        "signatures_bad": counts.get("bad_signature", 0),
        "signatures_missing": counts.get("unsigned", 0) + counts.get("unknown_key", 0),
        "drain_s": meta.get("drain_s"),
        "sandbox_cpu_pct_mean": round(sum(sandbox_cpu) / len(sandbox_cpu), 1) if sandbox_cpu else None,
        "sandbox_cpu_pct_max": round(max(sandbox_cpu), 1) if sandbox_cpu else None,
        "sandbox_rss_mb_start": round(rss[0], 1) if rss else None,
        "sandbox_rss_mb_end": round(rss[-1], 1) if rss else None,
        "sandbox_rss_mb_max": round(max(rss), 1) if rss else None,
        "sink_cpu_pct_mean": _mean(r.get("sink_cpu", 0.0) for r in data.resources if start <= r["t"] <= end),
        "locust_cpu_pct_mean": _mean(
            r.get("locust_cpu", 0.0) + r.get("locust_workers_cpu", 0.0)
            for r in data.resources
            if start <= r["t"] <= end
        ),
        "other_cpu_pct_mean": _mean(r.get("other_cpu", 0.0) for r in data.resources if start <= r["t"] <= end),
        "sandbox_cpu_ms_per_accepted": round(sum(sandbox_cpu) / 100 * 1000 / len(accepted), 3)
        if accepted and sandbox_cpu
        else None,
        "command": meta.get("command"),
        "server_processes": meta.get("server_processes") or [],
        "locust_workers": meta.get("locust_workers") or 0,
    }
    return summary


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 1) if items else None


def per_second_rows(data: RunData) -> list[dict[str, Any]]:
    start = data.meta.get("load_started_at") or (data.calls[0].t_send if data.calls else 0.0)
    buckets: dict[int, dict[str, Any]] = defaultdict(lambda: {"latencies": [], "read_lags": [], "c": Counter()})
    for call in data.calls:
        bucket = buckets[int(call.t_send - start)]
        if call.kind == "inbound":
            bucket["c"]["inbound"] += 1
            continue
        ok = call.http_status == 200 and bool(call.wamid)
        bucket["c"]["offered"] += 1
        bucket["c"]["accepted" if ok else "rejected"] += 1
        if ok:
            bucket["latencies"].append(call.latency_ms)
            record = data.webhooks.get(call.wamid)
            if record is not None and record[3] == record[3]:
                bucket["read_lags"].append((record[3] - call.t_send) * 1000)
    arrivals: Counter[tuple[int, str]] = Counter()
    for record in data.webhooks.values():
        for slot, status in enumerate(WEBHOOK_STATUSES, start=1):
            if record[slot] == record[slot]:
                arrivals[(int(record[slot] - start), status)] += 1
    resources = {int(r["t"] - start): r for r in data.resources}
    rows = []
    last = max([*buckets, *(s for s, _ in arrivals), 0])
    for second in range(0, last + 1):
        bucket = buckets.get(second, {"latencies": [], "read_lags": [], "c": Counter()})
        latencies = sorted(bucket["latencies"])
        read_lags = sorted(bucket["read_lags"])
        sample = resources.get(second, {})
        rows.append(
            {
                "second": second,
                "offered": bucket["c"]["offered"],
                "accepted": bucket["c"]["accepted"],
                "rejected": bucket["c"]["rejected"],
                "inbound": bucket["c"]["inbound"],
                "send_p50_ms": _round(pct(latencies, 50)),
                "send_p99_ms": _round(pct(latencies, 99)),
                "read_lag_p50_ms": _round(pct(read_lags, 50)),
                "read_lag_p99_ms": _round(pct(read_lags, 99)),
                **{f"webhooks_{status}": arrivals[(second, status)] for status in WEBHOOK_STATUSES},
                "sandbox_cpu_pct": _round(sample.get("sandbox_cpu")),
                "sandbox_rss_mb": _round(sample.get("sandbox_rss_mb")),
            }
        )
    return rows


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def write_report(run_dir: Path, data: RunData) -> dict[str, Any]:
    summary = summarize(data)
    rows = per_second_rows(data)
    _write_csv(run_dir / "per_second.csv", rows)
    _write_csv(run_dir / "summary.csv", list(_flatten({k: v for k, v in summary.items() if k != "server_processes"})))
    _write_csv(run_dir / "processes.csv", summary["server_processes"])
    _write_csv(run_dir / "errors.csv", [{"error": k, "count": v} for k, v in summary["errors"].items()])
    (run_dir / "summary.json").write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    chart = _chart(run_dir / "chart.png", rows, summary)
    (run_dir / "report.md").write_text(markdown(summary, chart))
    return summary


def _flatten(summary: dict[str, Any], prefix: str = "") -> Iterable[dict[str, Any]]:
    for key, value in summary.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield {"metric": prefix + key, "value": value}


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as handle:
        if not rows:
            handle.write("")
            return
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _chart(path: Path, rows: list[dict[str, Any]], summary: dict[str, Any]) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # the `load` extra brings matplotlib; without it the report has no chart
        return None
    x = [row["second"] for row in rows]
    figure, (top, middle, bottom) = plt.subplots(3, 1, figsize=(12, 9), sharex=True)
    top.plot(x, [r["accepted"] for r in rows], label="accepted /s")
    top.plot(x, [r["rejected"] for r in rows], label="rejected /s")
    for status in WEBHOOK_STATUSES:
        top.plot(x, [r[f"webhooks_{status}"] for r in rows], label=f"{status} webhooks /s", linewidth=0.8)
    top.set_ylabel("per second")
    _legend_beside(top)
    top.set_title(
        f"{summary['profile']}: {summary['offered_rate_per_number']}/s offered × {summary['numbers']} number(s), "
        f"{summary['accepted_per_s_steady_mean']} accepted/s (steady)"
    )
    middle.plot(x, [r["send_p50_ms"] for r in rows], label="send p50 ms")
    middle.plot(x, [r["send_p99_ms"] for r in rows], label="send p99 ms")
    middle.plot(x, [r["read_lag_p50_ms"] for r in rows], label="send→read webhook p50 ms", linewidth=0.8)
    middle.plot(x, [r["read_lag_p99_ms"] for r in rows], label="send→read webhook p99 ms", linewidth=0.8)
    middle.set_yscale("symlog", linthresh=10)
    middle.set_ylabel("ms (by second of send)")
    _legend_beside(middle)
    bottom.plot(x, [r["sandbox_cpu_pct"] for r in rows], label="sandbox CPU %", color="tab:red")
    bottom.set_ylabel("CPU % (100 = 1 core)")
    bottom.set_xlabel("seconds since load start")
    rss_axis = bottom.twinx()
    rss_axis.plot(x, [r["sandbox_rss_mb"] for r in rows], label="sandbox RSS MB", color="tab:purple")
    rss_axis.set_ylabel("RSS MB")
    _legend_beside(bottom, rss_axis)
    figure.tight_layout()
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return path.name


def _legend_beside(*axes: Any) -> None:
    """One legend right of the plot area (for a twin axis too), where it never hides a line."""
    handles, labels = [], []
    for axis in axes:
        more_handles, more_labels = axis.get_legend_handles_labels()
        handles += more_handles
        labels += more_labels
    # A twin's y label sits on the right edge: start the legend past it.
    x = 1.08 if len(axes) > 1 else 1.01
    axes[0].legend(handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(x, 1.0), borderaxespad=0)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.2f}"
    return str(value)


def _latency_table(title: str, rows: dict[str, dict[str, float | None]]) -> list[str]:
    lines = [f"| {title} | n | p50 | p90 | p95 | p99 | p99.9 | max |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, row in rows.items():
        n = int(row["n"] or 0)
        lines.append(
            f"| {name} | {n:,} | "
            + " | ".join(_fmt(row.get(k)) for k in ("p50", "p90", "p95", "p99", "p99.9", "max"))
            + " |"
        )
    return lines


def _skew_flag(other_cpu: float | None) -> str:
    return " ⚠ busy box: figures skewed" if (other_cpu or 0) > 20 else ""


def markdown(summary: dict[str, Any], chart: str | None) -> str:
    s = summary
    lines = [
        f"# Load run: {s['profile']}, {s['offered_rate_per_number']} msg/s offered per number × {s['numbers']}",
        "",
        f"Command: `{s['command']}`",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| throughput level | {s['throughput_level']} |",
        f"| load duration (s) | {s['duration_s']} |",
        f"| send calls / accepted | {s['send_calls']:,} / {s['accepted']:,} |",
        f"| accepted msgs/s (whole run) | {_fmt(s['accepted_per_s_overall'])} |",
        f"| accepted msgs/s, steady (mean, min–max per second) | {_fmt(s['accepted_per_s_steady_mean'])} "
        f"({_fmt(s['accepted_per_s_steady_min'])}–{_fmt(s['accepted_per_s_steady_max'])}) |",
        f"| offered msgs/s, steady (mean) | {_fmt(s['offered_per_s_steady_mean'])} |",
        f"| inbound calls (customers writing in) | {s['inbound_calls']:,} |",
        f"| webhooks missing (sent / delivered / read) | {s['webhooks_missing']['sent']} / "
        f"{s['webhooks_missing']['delivered']} / {s['webhooks_missing']['read']} |",
        f"| webhooks duplicated | {sum(s['webhooks_duplicated'].values()) if s['webhooks_duplicated'] else 0} |",
        f"| status webhooks for unknown wamids | {s['webhooks_unexpected_wamids']} |",
        f"| async failures (failed status) | {s['webhooks_failed_async']} |",
        f"| bad / missing signatures | {s['signatures_bad']} / {s['signatures_missing']} |",
        f"| drain after load (s) | {_fmt(s['drain_s'])} |",
        f"| sandbox CPU % (mean / max; 100 = one core) | {_fmt(s['sandbox_cpu_pct_mean'])} / "
        f"{_fmt(s['sandbox_cpu_pct_max'])} |",
        f"| sandbox RSS MB (start / end / max) | {_fmt(s['sandbox_rss_mb_start'])} / {_fmt(s['sandbox_rss_mb_end'])} / "
        f"{_fmt(s['sandbox_rss_mb_max'])} |",
        f"| sandbox CPU ms per accepted message (incl. its webhooks) | {_fmt(s['sandbox_cpu_ms_per_accepted'])} |",
        f"| sink / locust CPU % (mean) | {_fmt(s['sink_cpu_pct_mean'])} / {_fmt(s['locust_cpu_pct_mean'])} |",
        f"| locust workers (master/worker mode) | {s['locust_workers'] or '–'} |",
        f"| other processes on the box, CPU % (mean){_skew_flag(s['other_cpu_pct_mean'])} | "
        f"{_fmt(s['other_cpu_pct_mean'])} |",
        "",
        "## Errors by Graph code",
        "",
    ]
    if s["errors"]:
        lines += ["| Graph code (HTTP status) | count |", "|---|---:|"]
        lines += [f"| {code} | {count:,} |" for code, count in s["errors"].items()]
    else:
        lines.append("None.")
    lines += ["", *shards.markdown(s["server_processes"], s["accepted_per_s_steady_mean"])]
    lines += ["## Latency (ms)", ""]
    lines += _latency_table(
        "send call",
        {
            "accepted sends": s["send_latency_ms"],
            "all sends": s["send_latency_all_ms"],
            "inbound (control plane)": s["inbound_latency_ms"],
        },
    )
    lines += [""]
    lines += _latency_table(
        "webhook lag (send call → arrival at sink)", {f"→ {status}": row for status, row in s["webhook_lag_ms"].items()}
    )
    lines += [
        "",
        "Lag includes the simulated progression delays of the tenant policy (see plan.json); subtract their mean "
        "to get the sandbox's own delivery overhead.",
        "",
    ]
    if chart:
        lines += [f"![throughput and latency over time]({chart})", ""]
    lines += [
        "Files: `per_second.csv` (the chart's data), `summary.csv`, `errors.csv`, `calls-*.csv` (every call), "
        "`webhooks.csv` (every message's webhook arrival times), `resources.csv` (psutil samples), `locust_*.csv`.",
        "",
    ]
    return "\n".join(lines)
