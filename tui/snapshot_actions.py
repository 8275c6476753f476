"""The snapshot key (`s`) and the autosave a hang-up or SIGTERM writes: a mixin of
FlametopApp, kept apart so the app module stays about composition and the worker.

The files themselves are written by tui/saving.py, on a worker thread."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from samplers.model import Metadata, Profile
from samplers.tree.snapshot import Snapshot
from tui.render.safe_text import clean
from tui.saving import autosave, base_name, save_snapshot

if TYPE_CHECKING:
    from textual.app import App

    from samplers.session.live import LoopUpdate, SamplingLoop

    # For the type checker the mixin is the App it is mixed into (export_screenshot,
    # notify, exit come from there); at run time it adds no base, FlametopApp adds App.
    _AppBase = App[int]
else:
    _AppBase = object


class SnapshotActions(_AppBase):
    """Actions of FlametopApp that save what is on screen; see FlametopApp for the state."""

    # State owned by FlametopApp (declared here for readers and type checkers).
    if TYPE_CHECKING:
        loop: SamplingLoop
        target: str
        metadata: Metadata
        save_dir: Path
        autosaved: tuple[Path, ...]
        autosave_errors: tuple[str, ...]
        exit_signal: int | None
        _shown: Snapshot | None
        _last_update: LoopUpdate | None
        _mode: str
        _autosave_lock: threading.Lock

    def action_snapshot(self) -> None:
        screen_svg = self.export_screenshot(title=f"flametop · {clean(self.target, 60)}")
        self._save(screen_svg, self._shown)

    @work(thread=True, group="save", exit_on_error=False)
    def _save(self, screen_svg: str, snap: Snapshot | None) -> None:
        base = base_name(self.save_dir, self._label())
        result = save_snapshot(base, screen_svg, self._capture(), snap)
        if result.written:
            where = result.written[0].parent
            listing = "\n".join(p.name for p in result.written)
            self.notify(f"saved in {where}/\n{listing}", title="snapshot", timeout=6, markup=False)
        for error in result.errors:
            self.notify(clean(error), title="snapshot failed", severity="error", markup=False)

    def _capture(self) -> Profile:
        duration = 0.0
        if self._last_update and self._shown:
            duration = max(0.0, self._shown.last_t - self._shown.first_t)
        metadata = replace(self.metadata, mode=self._mode, duration_s=duration)
        return self.loop.capture(metadata)

    def _label(self) -> str:
        return f"pid{self.metadata.pid}" if self.metadata.pid else "session"

    def _on_signal(self, signum: int) -> None:
        # SIGHUP (SSH dropped) or SIGTERM: keep what was sampled, then leave cleanly.
        self.exit_signal = signum
        self.autosave_once()
        self.exit(128 + signum, return_code=128 + signum)

    def autosave_once(self, wait_s: float = -1) -> None:
        """Write the `.autosave.flametop` capture unless it was written already (the event
        loop and the exit guard's watchdog may both ask, from different threads)."""
        if not self._autosave_lock.acquire(timeout=wait_s):
            return  # another thread is writing it
        try:
            if not (self.autosaved or self.autosave_errors):
                result = autosave(self.save_dir, self._label(), self._capture())
                self.autosaved, self.autosave_errors = result.written, result.errors
        finally:
            self._autosave_lock.release()
