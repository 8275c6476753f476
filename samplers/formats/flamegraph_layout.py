"""The flame graph's geometry: a merged call tree laid out as fractions of the total.

Pure and UI-free, shared by the SVG writer and its differential variant. Frames are told
apart by (function, file); lines are merged, as a flame graph shows functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from samplers.formats.common import distinct_threads, has_thread_root
from samplers.model import Profile

Key = tuple[str, str]  # (function, file)


@dataclass
class Node:
    key: Key
    total: int = 0
    own: int = 0
    children: dict[Key, Node] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Box:
    """One drawn frame: x and width as fractions of the root, depth 0 at the top."""

    path: tuple[Key, ...]
    x: float
    width: float
    depth: int
    total: int
    own: int


def build_tree(
    profile: Profile, by_thread: bool | None = None, basename_only: bool = False
) -> Node:
    """Merge every sample into one tree under a root keyed ("all", "").

    `basename_only` keys files by their last path component, so profiles that spell paths
    differently (py-spy's raw output shortens them, its speedscope output does not) match.
    """
    if by_thread is None:
        by_thread = len([t for t in distinct_threads(profile) if t]) > 1
    root = Node(("all", ""))
    for sample in profile.merged():
        if sample.count <= 0:
            continue
        root.total += sample.count
        node = root
        keys: list[Key] = [
            (f.function, f.file.replace("\\", "/").rsplit("/", 1)[-1] if basename_only else f.file)
            for f in sample.stack
        ]
        if by_thread and sample.thread and not has_thread_root(sample):
            keys.insert(0, (f"thread ({sample.thread})", ""))
        for key in keys:
            child = node.children.get(key)
            if child is None:
                child = node.children[key] = Node(key)
            child.total += sample.count
            node = child
        node.own += sample.count
    return root


def layout(root: Node, min_fraction: float = 0.001) -> list[Box]:
    """Boxes for every frame at least `min_fraction` of the root wide, parents first."""
    boxes: list[Box] = []
    if root.total <= 0:
        return boxes
    # Iterative, so a 10,000-deep recursion cannot exhaust Python's stack.
    todo: list[tuple[Node, tuple[Key, ...], float, int]] = [(root, (root.key,), 0.0, 0)]
    while todo:
        node, path, x, depth = todo.pop()
        width = node.total / root.total
        boxes.append(Box(path, x, width, depth, node.total, node.own))
        cx = x
        kids = sorted(node.children.values(), key=lambda n: (n.key[0], n.key[1]))
        placed: list[tuple[Node, tuple[Key, ...], float, int]] = []
        for child in kids:
            w = child.total / root.total
            if w >= min_fraction:
                placed.append((child, (*path, child.key), cx, depth + 1))
            cx += w
        todo.extend(reversed(placed))
    return boxes


def shares_by_path(root: Node) -> dict[tuple[Key, ...], float]:
    """Each path's share of the root (0..1), for comparing two profiles."""
    out: dict[tuple[Key, ...], float] = {}
    if root.total <= 0:
        return out
    todo: list[tuple[Node, tuple[Key, ...]]] = [(root, (root.key,))]
    while todo:
        node, path = todo.pop()
        out[path] = node.total / root.total
        todo.extend((c, (*path, c.key)) for c in node.children.values())
    return out
