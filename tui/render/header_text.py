"""What the header says beyond the numbers: which backend samples, why an asyncio
target's waiting coroutines are missing from wall mode, and that the work is in child
processes flametop is not sampling."""

from __future__ import annotations

from samplers.model import Health
from samplers.tree.snapshot import Snapshot

# Frames of an event loop waiting for I/O: where an asyncio program's wall time goes
# when its coroutines are suspended.
_EVENT_LOOP = ("run_forever", "_run_once")
ASYNCIO_NOTE = "asyncio: waiting tasks not shown (py-spy 0.4.3 reads threads, not tasks)"
CHILDREN_NOTE = "children are busy: --subprocesses"
# The target idles below IDLE_PERCENT of a core while its children use at least
# BUSY_PERCENT between them (a Pool job or a pre-fork server's master), in each of the
# last BUSY_READINGS readings: one busy second is not worth the hint.
IDLE_PERCENT = 10.0
BUSY_PERCENT = 25.0
BUSY_READINGS = 2


def backend_label(health: Health | None) -> str:
    """Which sampler runs, for the header: a fallback must not pass for the default."""
    if health is None or not health.backend:
        return ""
    return "in-process" if "in-process" in health.backend else health.backend


def asyncio_note(snapshot: Snapshot | None, mode: str) -> str | None:
    """In wall mode on a target whose time is in an asyncio event loop, say why the
    suspended coroutines are not shown, instead of leaving `select` at 99 % unexplained."""
    if snapshot is None or mode != "wall":
        return None
    for stat in snapshot.functions:
        name, file = stat.key.function, stat.key.file
        if "asyncio" in file and any(name.endswith(loop) for loop in _EVENT_LOOP):
            return ASYNCIO_NOTE
    return None


def children_note(snapshot: Snapshot | None) -> str | None:
    """When only the target is sampled and it sits idle while its children burn CPU,
    say that --subprocesses would show where the time goes."""
    if snapshot is None or len(snapshot.processes) > 1:
        return None  # the children are sampled already
    recent = [r for r in snapshot.readings if r.processes][-BUSY_READINGS:]
    if len(recent) < BUSY_READINGS:
        return None
    for r in recent:
        own = r.processes[0].cpu_percent
        children = [p.cpu_percent for p in r.processes[1:] if p.cpu_percent is not None]
        if own is None or own >= IDLE_PERCENT or sum(children) < BUSY_PERCENT:
            return None
    return CHILDREN_NOTE
