"""ModeTrees: cpu, wall and gil as views of one stream, each kept as its own StackTree.

A complete batch (every thread read at each instant, with its active and GIL flags)
feeds all three trees, so switching the mode shows the past in the new mode at once:
the last 30 s of wall time are there the moment `m` is pressed. A batch taken in one
mode only (the py-spy CLI backend) feeds that mode's tree. Each tree also gets the
batch's times when it holds no sample for it, so every window follows the clock.
"""

from __future__ import annotations

from dataclasses import replace

from samplers.model import MODES, Health, Mode, SampleBatch, SystemReading
from samplers.tree.snapshot import Snapshot, View
from samplers.tree.stacktree import StackTree


class ModeTrees:
    """The Tree the sampling loop owns: one StackTree per mode, `View.mode` picks."""

    def __init__(self, mode: Mode = "cpu", rate: float = 100.0, max_buckets: int = 300) -> None:
        self.trees: dict[Mode, StackTree] = {
            m: StackTree(rate=rate, max_buckets=max_buckets) for m in MODES
        }
        self.mode: Mode = mode  # the mode of a View that names none
        self._complete = False  # some batch had every thread, active or not
        self._with_active: tuple[tuple[Mode, int], Snapshot] | None = None

    def tree(self, mode: Mode | None = None) -> StackTree:
        return self.trees[mode or self.mode]

    def add(self, batch: SampleBatch) -> None:
        for mode, tree in self.trees.items():
            seen = batch.view(mode)
            if seen is None:
                # not taken in this mode: the clock still moves on for its windows
                seen = SampleBatch(batch.t_start, batch.t_end, (), mode, batch.rate)
            tree.add(seen)
        if not batch.complete:
            self.mode = batch.mode
        else:
            self._complete = True

    def snapshot(self, view: View, baseline_of: StackTree | None = None) -> Snapshot:
        mode = view.mode or self.mode
        snap = self.tree(mode).snapshot(view, baseline_of)
        if not self._complete or not snap.thread_stats:
            return snap
        key = (mode, snap.version)
        if self._with_active is not None and self._with_active[0] == key:
            return self._with_active[1]
        # Active share per thread: its cpu-mode (running) samples over its wall-mode
        # (all) samples in the same window, whichever mode is shown.
        ran = self.trees["cpu"].thread_counts(view)
        seen = self.trees["wall"].thread_counts(view)
        stats = tuple(
            t._replace(active=ran.get((t.pid, t.name), 0) / seen[(t.pid, t.name)])
            if seen.get((t.pid, t.name))
            else t
            for t in snap.thread_stats
        )
        snap = replace(snap, thread_stats=stats)
        self._with_active = (key, snap)
        return snap

    def reset(self) -> None:
        for tree in self.trees.values():
            tree.reset()
        self._with_active = None

    def set_health(self, health: Health) -> None:
        for tree in self.trees.values():
            tree.set_health(health)

    def add_reading(self, reading: SystemReading) -> None:
        for tree in self.trees.values():
            tree.add_reading(reading)

    @property
    def all_samples(self) -> int:
        return max(tree.all_samples for tree in self.trees.values())

    @property
    def first_t(self) -> float | None:
        return self.tree().first_t

    @property
    def last_t(self) -> float | None:
        return self.tree().last_t
