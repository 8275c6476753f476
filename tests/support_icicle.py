"""Builders for icicle tests: call trees and snapshots made directly from the dataclasses,
a one-widget App to drive the Icicle, and a live App on a deep server stack."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from hypothesis import strategies as st
from rich.style import Style
from support_app import T0, FixedClock, ScriptedSampler
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot

from samplers.model import Frame, Metadata, Sample, SampleBatch
from samplers.tree.snapshot import CallNode, Snapshot, View
from tui.render.icicle_layout import IcicleCell
from tui.widgets.icicle import Icicle


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


@st.composite
def call_trees(draw: st.DrawFn, total: int = 0, depth: int = 0, name: str = "r") -> CallNode:
    if depth == 0:
        total = draw(st.integers(min_value=0, max_value=5000))
    parts: list[int] = []
    if depth < 6 and total > 0:
        budget = total - draw(st.integers(min_value=0, max_value=total))  # leave own time
        for _ in range(draw(st.integers(min_value=0, max_value=5))):
            if budget <= 0:
                break
            part = draw(st.integers(min_value=1, max_value=budget))
            parts.append(part)
            budget -= part
    parts.sort(reverse=True)
    children = tuple(
        draw(call_trees(part, depth + 1, f"{name}.{i}")) for i, part in enumerate(parts)
    )
    own = total - sum(parts)
    frame = None if depth == 0 else Frame(name, f"mod{depth % 3}.py", depth)
    return CallNode(frame, total, own, children)


# A pre-fork server's stack: 30 frames every sample shares (the last one, dispatch, splits)
# and two hot leaves under it, 60 / 40.
SHARED_NAMES = (
    "<module>",
    "main",
    "run",
    "serve_forever",
    *(f"middleware_{i:02}" for i in range(4, 28)),
    "handle_request",
    "dispatch",
)
SHARED = tuple(Frame(name, "server.py", 10 + i) for i, name in enumerate(SHARED_NAMES))
FIND_EMAILS = Frame("find_emails", "views.py", 7)
QUERY_ITEMS = Frame("query_items", "db.py", 31)


def chain_tree(frames: tuple[Frame, ...], *leaves: CallNode) -> CallNode:
    """`frames` nested from the root down, each calling the next, `leaves` under the last."""
    total = sum(leaf.total for leaf in leaves)
    tree = CallNode(frames[-1], total, 0, leaves)
    for frame in reversed(frames[:-1]):
        tree = CallNode(frame, total, 0, (tree,))
    return root(tree)


def leaf(frame: Frame, total: int, *children: CallNode) -> CallNode:
    own = total - sum(c.total for c in children)
    return CallNode(frame, total, own, tuple(children))


def deep_server_tree(find: int = 60, query: int = 40) -> CallNode:
    return chain_tree(SHARED, leaf(FIND_EMAILS, find), leaf(QUERY_ITEMS, query))


def server_second(i: int, find: int = 60, query: int = 40) -> SampleBatch:
    """One second of the deep server: every sample under the 30 shared frames."""
    return SampleBatch(
        t_start=T0 + i,
        t_end=T0 + i + 1,
        samples=(
            Sample("MainThread", (*SHARED, FIND_EMAILS), find),
            Sample("MainThread", (*SHARED, QUERY_ITEMS), query),
        ),
        mode="cpu",
        rate=100.0,
    )


def server_app(sampler: ScriptedSampler, save_dir: Any, seconds: int = 5) -> Any:
    """The live App on the deep server's batches, clock just after the last one."""
    from tui.app import FlametopApp

    return FlametopApp(
        sampler,
        target="pid 4242 python server.py",
        metadata=Metadata(pid=4242, rate=100.0, mode="cpu"),
        save_dir=save_dir,
        clock=FixedClock(T0 + seconds + 0.2),
        snapshot_interval=0.05,
    )


# --- one Icicle in an App ---------------------------------------------------------------


class IcicleApp(App[None]):
    def __init__(self, shown: Snapshot, highlight: Frame | None = None) -> None:
        super().__init__()
        self.shown = shown
        self.highlight = highlight
        self.messages: list[Message] = []

    def compose(self) -> ComposeResult:
        yield Icicle()

    def on_mount(self) -> None:
        icicle = self.query_one(Icicle)
        icicle.show(self.shown, self.highlight)
        icicle.focus()

    def on_icicle_frame_selected(self, message: Icicle.FrameSelected) -> None:
        self.messages.append(message)

    def on_icicle_zoom_in(self, message: Icicle.ZoomIn) -> None:
        self.messages.append(message)

    def on_icicle_zoom_out(self, message: Icicle.ZoomOut) -> None:
        self.messages.append(message)


def drive(
    app: IcicleApp,
    steps: Callable[[Pilot[None], Icicle], Awaitable[None]],
    size: tuple[int, int] = (80, 10),
) -> None:
    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await steps(pilot, app.query_one(Icicle))

    asyncio.run(main())


def lines(icicle: Icicle) -> list[str]:
    return [icicle.render_line(y).text for y in range(icicle.size.height)]


def segment_style_of(icicle: Icicle, y: int, text: str) -> Style:
    for segment in icicle.render_line(y):
        if text in segment.text and segment.style is not None:
            return segment.style
    raise AssertionError(f"{text!r} not on line {y}: {icicle.render_line(y).text!r}")


def cursor_line(icicle: Icicle) -> tuple[int, str]:
    """(screen row, text) of the cell drawn in reverse: where the cursor is."""
    for y in range(icicle.size.height):
        for segment in icicle.render_line(y):
            if segment.style is not None and segment.style.reverse:
                return y, segment.text
    raise AssertionError("no cursor on screen")
