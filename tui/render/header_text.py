"""What the header says beyond the numbers: which backend samples, and why an asyncio
target's waiting coroutines are missing from wall mode."""

from __future__ import annotations

from samplers.model import Health
from samplers.tree.snapshot import Snapshot

# Frames of an event loop waiting for I/O: where an asyncio program's wall time goes
# when its coroutines are suspended.
_EVENT_LOOP = ("run_forever", "_run_once")
ASYNCIO_NOTE = "asyncio: waiting tasks not shown (py-spy 0.4.3 reads threads, not tasks)"


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
