"""Builders for icicle tests: call trees and snapshots made directly from the dataclasses."""

from __future__ import annotations

from samplers.model import Frame
from samplers.tree.snapshot import CallNode, Snapshot, View
from tui.render.icicle_layout import IcicleCell


def node(
    function: str,
    total: int,
    *children: CallNode,
    file: str = "app.py",
    line: int = 1,
    delta: float | None = None,
) -> CallNode:
    own = total - sum(c.total for c in children)
    return CallNode(Frame(function, file, line), total, own, tuple(children), delta)


def root(*children: CallNode, total: int | None = None, delta: float | None = None) -> CallNode:
    whole = sum(c.total for c in children) if total is None else total
    return CallNode(None, whole, whole - sum(c.total for c in children), children, delta)


def snapshot(tree: CallNode, version: int = 1, zoom: tuple[Frame, ...] = ()) -> Snapshot:
    return Snapshot(
        version=version,
        view=View(zoom=zoom),
        t_start=0.0,
        t_end=30.0,
        first_t=0.0,
        last_t=30.0,
        total_samples=tree.total if not zoom else 1000,
        functions=(),
        root=tree,
        threads=(("MainThread", tree.total),),
        rate=100.0,
        mode="cpu",
    )


def by_path(cells: tuple[IcicleCell, ...]) -> dict[tuple[Frame, ...], IcicleCell]:
    return {c.path: c for c in cells}


# A small program: main calls serve (60) and load (30); serve calls handle (50).
HANDLE = node("handle", 50, file="/srv/venv/lib/python3.11/site-packages/web/h.py", line=9)
SERVE = node("serve", 60, HANDLE, line=20)
LOAD = node("load", 30, line=40)
MAIN = node("main", 100, SERVE, LOAD, line=5)
TREE = root(MAIN)
