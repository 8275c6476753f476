"""The flame graph's geometry: the merged call tree laid out as fractions of the total.

Pure and UI-free, shared by the SVG writer and its differential variant. Frames are told
apart by (function, file); lines are merged, as a flame graph shows functions. The tree
is built breadth-first and only under frames wide enough to draw, so a profile of 100,000
distinct stacks costs what its visible part costs, not a node per frame of every stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from samplers.formats.common import distinct_threads, has_thread_root
from samplers.model import Frame, Profile, Sample

Key = tuple[str, str]  # (function, file)
ROOT: Key = ("all", "")


@dataclass(frozen=True, slots=True)
class Box:
    """One drawn frame: x and width as fractions of the root, depth 0 at the top."""

    path: tuple[Key, ...]
    x: float
    width: float
    depth: int
    total: int
    own: int


class _Keys:
    """The key of each level of a sample's stack, with an optional thread root first."""

    def __init__(self, basename_only: bool) -> None:
        self.basename_only = basename_only
        self.by_id: dict[int, Key] = {}  # by frame identity: Frame's own hash is slow

    def of(self, frame: Frame) -> Key:
        key = self.by_id.get(id(frame))
        if key is None:
            file = frame.file
            if self.basename_only:
                file = file.replace("\\", "/").rsplit("/", 1)[-1]
            key = self.by_id[id(frame)] = (frame.function, file)
        return key


def layout(
    profile: Profile,
    min_fraction: float = 0.001,
    by_thread: bool | None = None,
    basename_only: bool = False,
) -> list[Box]:
    """Boxes for every frame at least `min_fraction` of all samples wide, parents first.

    `by_thread` (default: when the profile has more than one named thread) adds a
    `thread (NAME)` root per thread; `basename_only` keys files by their last path
    component, so profiles that spell paths differently (py-spy's raw output shortens
    them, its speedscope output does not) still match in a comparison.
    """
    if by_thread is None:
        by_thread = len([t for t in distinct_threads(profile) if t]) > 1
    keys = _Keys(basename_only)
    # Each member: (levels, count), levels a tuple of keys or frames to resolve lazily.
    members: list[tuple[tuple[Key | Frame, ...], int]] = []
    for batch in profile.batches:
        for s in batch.samples:
            if s.count > 0:
                members.append((_levels(s, by_thread), s.count))
    total = sum(c for _, c in members)
    if total <= 0:
        return []
    threshold = min_fraction * total
    boxes: list[Box] = []
    todo: list[tuple[tuple[Key, ...], float, int, int, list[tuple[tuple[Key | Frame, ...], int]]]]
    todo = [((ROOT,), 0.0, 0, total, members)]
    while todo:
        path, x, depth, node_total, group = todo.pop()
        children: dict[Key, tuple[list[int], list[tuple[tuple[Key | Frame, ...], int]]]] = {}
        own = 0
        for levels, count in group:
            if len(levels) <= depth:
                own += count
                continue
            level = levels[depth]
            key = keys.of(level) if isinstance(level, Frame) else level
            entry = children.get(key)
            if entry is None:
                entry = children[key] = ([0], [])
            entry[0][0] += count
            entry[1].append((levels, count))
        boxes.append(Box(path, x, node_total / total, depth, node_total, own))
        cx = x
        placed = []
        for key in sorted(children):
            (child_total,), child_group = children[key]
            if child_total >= threshold:
                placed.append(((*path, key), cx, depth + 1, child_total, child_group))
            cx += child_total / total
        todo.extend(reversed(placed))
    return boxes


def _levels(sample: Sample, by_thread: bool) -> tuple[Key | Frame, ...]:
    if by_thread and sample.thread and not has_thread_root(sample):
        return ((f"thread ({sample.thread})", ""), *sample.stack)
    return sample.stack
