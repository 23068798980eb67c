"""CPU per message for each process of the server under load, read from the server itself.

`GET /_sandbox/health` carries each process's own CPU seconds (`process.cpu_seconds`); behind a front (`serve
--workers N`, `wa-sandbox front`) it carries every shard's under `shards` and the coordinator's at the top. Read
before the load and after the last webhook, the differences charge CPU to each shard wherever it runs (another
host, another network namespace), which a local process sampler cannot. HAProxy's own CPU is not in it: on one
machine the run's sampler counts it with the sandbox's process tree.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sandbox.ids import shard_for


def processes_of(health: dict[str, Any]) -> list[dict[str, Any]]:
    """[{name, url, pid, cpu_seconds, max_rss_mb}] for each process a health document describes."""
    own = health.get("process") or {}
    shards = health.get("shards")
    if not shards:
        return [{"name": "sandbox", "url": "", **own}]
    found = [
        {"name": f"shard {shard['index']}", "url": shard.get("url", ""), **(shard.get("process") or {})}
        for shard in shards
    ]
    return [*found, {"name": "coordinator", "url": "", **own}]


def cpu_by_process(
    before: dict[str, Any], after: dict[str, Any], accepted_by_tenant: dict[str, int], seconds: float
) -> list[dict[str, Any]]:
    """One row per process: CPU seconds between the two health documents, mean CPU % over `seconds`, the accepted
    messages of the tenants it owns (a shard owns the tenants its name places on it) and CPU ms per message."""
    start = {row["name"]: row for row in processes_of(before)}
    shards = len(after.get("shards") or []) or 1
    owned: Counter[int] = Counter()
    for tenant, count in accepted_by_tenant.items():
        owned[shard_for(tenant, shards) if shards > 1 else 0] += count
    total = sum(accepted_by_tenant.values())
    rows = []
    for row in processes_of(after):
        first = start.get(row["name"], {})
        if "cpu_seconds" not in row or "cpu_seconds" not in first or row.get("pid") != first.get("pid"):
            cpu = None  # restarted, or an older sandbox without the figure
        else:
            cpu = max(0.0, float(row["cpu_seconds"]) - float(first["cpu_seconds"]))
        shard = row["name"].removeprefix("shard ")
        messages = owned[int(shard)] if shard.isdigit() else total
        rows.append(
            {
                "process": row["name"],
                "url": row.get("url", ""),
                "pid": row.get("pid"),
                "cpu_s": None if cpu is None else round(cpu, 3),
                "cpu_pct_mean": None if cpu is None else round(cpu / max(seconds, 1e-9) * 100, 1),
                "accepted": messages,
                "cpu_ms_per_accepted": round(cpu * 1000 / messages, 3) if cpu is not None and messages else None,
                "max_rss_mb": row.get("max_rss_mb"),
            }
        )
    return rows


def markdown(rows: list[dict[str, Any]], accepted_per_s: float | None) -> list[str]:
    """The report's section on the server's processes (nothing when the sandbox gave no figures)."""
    if not rows or all(row["cpu_s"] is None for row in rows):
        return []

    def cell(value: Any) -> str:
        return "–" if value is None else (f"{value:,}" if isinstance(value, int) else f"{value:.2f}")

    servers = sum(1 for row in rows if row["process"] != "coordinator")
    lines = [
        "## Server processes (from each process's `/_sandbox/health`, load start → last webhook)",
        "",
        f"Aggregate: {cell(accepted_per_s)} accepted msgs/s over {servers} sandbox process(es).",
        "",
        "| process | address | pid | CPU s | CPU % (mean) | accepted msgs it owns | CPU ms per accepted message "
        "| peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['process']} | {row['url'] or '–'} | {row['pid'] if row['pid'] is not None else '–'} | "
            f"{cell(row['cpu_s'])} | {cell(row['cpu_pct_mean'])} | {row['accepted']:,} | "
            f"{cell(row['cpu_ms_per_accepted'])} | {cell(row['max_rss_mb'])} |"
        )
    lines += [
        "",
        "A shard's CPU includes the webhooks of its messages; the coordinator's is the control plane only.",
        "",
    ]
    return lines
