"""CPU time used by a process and all its descendants, from /proc (Linux): where the cores went."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stats() -> dict[int, tuple[int, float]]:
    """pid → (parent pid, CPU seconds used by it and by its children that ended, user and
    system: PostgreSQL's backends end with their connections, their time left to the server)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
        used = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        found[int(entry.name)] = (int(fields[1]), used / TICKS)
    return found


def cpu_seconds(roots: Mapping[str, int]) -> dict[str, float]:
    """Name → CPU seconds of the process ``pid`` and every descendant alive now."""
    stats = _stats()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    totals = {}
    for name, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            total += stats.get(pid, (0, 0.0))[1]
            todo += children.get(pid, [])
        totals[name] = total
    return totals


def infrastructure_pids(run_dir: Path) -> dict[str, int]:
    """The servers deploy/local/infra.sh started, by the pid files it keeps."""
    pids = {}
    for name in ("kafka", "minio", "postgres", "clamd"):
        f = run_dir / f"{name}.pid"
        if f.exists() and f.read_text().strip().isdigit():
            pids[name] = int(f.read_text().strip())
    return pids
