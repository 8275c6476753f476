"""Pure icicle layout: which call-tree node goes in which terminal cell, and its label.

No Textual here. `layout_icicle` turns a `CallNode` tree into positioned `IcicleCell`s that
the Icicle widget only paints, so the geometry is unit-tested without an App. It also
owns the fold: the chain of frames every sample shares under the root (a server's
boilerplate; "every" to within one cell) can become one row, so the frames that differ
reach the screen.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len

from samplers.model import Frame
from samplers.tree.snapshot import CallNode, Snapshot
from tui.render.safe_text import clean

ELLIPSIS = "…"
ROOT_LABEL = "all"
SEPARATOR = "│"  # closes each icicle cell
FOLD_MIN = 3  # a shared chain shorter than this is not worth a row of its own
FOLDED_MARK = "▸"
UNFOLDED_MARK = "▾"

FoldState = Literal["none", "closed", "open"]


@dataclass(frozen=True, slots=True)
class IcicleCell:
    """One frame placed on screen: `width` cells from column `x` on row `row` (0 = root).

    `path` holds the frames from the layout root down to this node (the root "all" has
    the empty path). The label is printable text that fits in `width - 1` cells; the
    last cell is left for a separator so the structure shows without colour.

    A fold cell (`folded` not empty) stands for the shared chain of frames `folded`;
    its path is the path to the chain's last frame, `is_open` tells whether the chain's
    own rows follow it.
    """

    row: int
    x: int
    width: int
    path: tuple[Frame, ...]
    label: str
    total: int
    delta: float | None = None
    own: int = 0
    folded: tuple[Frame, ...] = ()
    is_open: bool = False

    @property
    def frame(self) -> Frame | None:
        return self.path[-1] if self.path else None

    @property
    def is_fold(self) -> bool:
        return bool(self.folded)

    @property
    def end(self) -> int:
        return self.x + self.width


def printable(text: str) -> str:
    """`text` as the whole TUI shows names from the target (`tui.render.safe_text.clean`): escape
    sequences removed, controls made visible, bidi and other format characters dropped."""
    return clean(text)


def truncate(text: str, cells: int) -> str:
    """`text` cut to at most `cells` terminal cells, ending in an ellipsis when cut."""
    if cells <= 0:
        return ""
    if cell_len(text) <= cells:
        return text
    budget = cells - 1  # room for the ellipsis
    used = 0
    kept: list[str] = []
    for ch in text:
        width = cell_len(ch)
        if used + width > budget:
            break
        kept.append(ch)
        used += width
    return "".join(kept) + ELLIPSIS


def cell_label(frame: Frame | None, cells: int, delta: float | None = None) -> str:
    """The most informative label that fits: function first, then Δ, then file:line."""
    if cells <= 0:
        return ""
    name = ROOT_LABEL if frame is None else (printable(frame.function) or "?")
    suffix = "" if delta is None else f" {delta:+.1f}"
    candidates: list[str] = []
    if frame is not None and frame.file:
        file = printable(frame.file)
        line = f":{frame.line}" if frame.line else ""
        candidates.append(f"{name} ({file}{line}){suffix}")
        base = posixpath.basename(file.replace("\\", "/"))
        if base and base != file:
            candidates.append(f"{name} ({base}{line}){suffix}")
    if suffix:
        candidates.append(f"{name}{suffix}")
    candidates.append(name)
    for candidate in candidates:
        if cell_len(candidate) <= cells:
            return candidate
    return truncate(name, cells)


def fold_label(frames: tuple[Frame, ...], cells: int, is_open: bool = False) -> str:
    """The fold row's label: how many frames it holds, and the first and last if room."""
    if cells <= 0 or not frames:
        return ""
    mark = UNFOLDED_MARK if is_open else FOLDED_MARK
    count = len(frames)
    first = printable(frames[0].function) or "?"
    last = printable(frames[-1].function) or "?"
    hidden = max(0, count - 2)
    candidates = (
        f"{mark} {count} shared frames: {first} → … {hidden} … → {last}",
        f"{mark} {first} → … {hidden} … → {last}",
        f"{mark} … {count} shared frames …",
        f"{mark} {count} shared frames",
        f"{mark} {count} shared",
    )
    for candidate in candidates:
        if cell_len(candidate) <= cells:
            return candidate
    return truncate(candidates[-1], cells)


def shared_chain(root: CallNode, slack: int = 0) -> tuple[CallNode, ...]:
    """The frames under `root` that every sample passes through and that show nothing.

    Each is the widest callee of the node above it and has a widest callee of its own,
    and both hold all of the root's samples but at most `slack` (samples that stop on
    the way or go to other callees). The layout passes as slack what is narrower than
    one cell, which it could not draw anyway, so folding hides nothing on screen; with
    no slack every sample shares the chain exactly. The frame that ends the chain (where
    samples part, or a leaf) is not in it: it stays a row of its own under the fold.
    """
    chain: list[CallNode] = []
    node = root
    while True:
        child = _heir(node, root.total - slack)
        if child is None or _heir(child, root.total - slack) is None:
            return tuple(chain)
        chain.append(child)
        node = child


def layout_icicle(
    root: CallNode,
    width: int,
    height: int,
    min_cells: int = 1,
    *,
    fold: FoldState = "none",
) -> tuple[IcicleCell, ...]:
    """Place `root` and its descendants in a `width` × `height` grid, root on row 0.

    Every node spans columns in proportion to its samples. Edges are computed from
    cumulative sample offsets against the root's total, so siblings never overlap, leave
    no rounding gaps between them, and stay inside their parent's span; a node at least
    `min_cells` wide at its exact share always gets that many cells. Nodes narrower than
    `min_cells` at their exact share are dropped with their subtrees (whatever rounding
    would have given them, so a sliver never shows up just because it straddles a cell
    edge), as are rows below `height`. Cells come out row by row, left to right.

    With `fold` "closed" or "open", a shared chain (`shared_chain`) of at least
    `FOLD_MIN` frames becomes one fold cell on row 1; "closed" leaves its frames out (what
    hung under the chain moves up), "open" keeps them on the rows under the fold cell.
    """
    if width <= 0 or height <= 0:
        return ()
    scale = max(root.total, 1)
    min_cells = max(1, min_cells)
    # Samples that leave the chain but are narrower than a cell do not end it; a chain
    # frame too narrow to be drawn (at one or two cells wide) would.
    slack = min((scale - 1) // width, root.total + (-min_cells * scale // width))
    chain = shared_chain(root, slack) if fold != "none" else ()

    def edge(offset: int) -> int:
        # Half-up rounding of width * offset / scale, in integers so it is exact.
        return (2 * offset * width + scale) // (2 * scale)

    root_path: tuple[Frame, ...] = () if root.frame is None else (root.frame,)
    cells = [_cell(0, 0, width, root_path, root)]
    # (node, sample offset, path) of the nodes placed on the previous row.
    level: list[tuple[CallNode, int, tuple[Frame, ...]]] = [(root, 0, root_path)]
    first_row = 1
    if len(chain) >= FOLD_MIN and height > 1:
        frames = tuple(node.frame for node in chain if node.frame is not None)
        is_open = fold == "open"
        last = chain[-1]
        cells.append(
            IcicleCell(
                row=1,
                x=0,
                width=edge(last.total),
                path=root_path + frames,
                label=fold_label(frames, edge(last.total) - 1, is_open),
                total=last.total,
                delta=last.delta,
                own=sum(node.own for node in chain),
                folded=frames,
                is_open=is_open,
            )
        )
        first_row = 2
        if not is_open:
            level = [(last, 0, root_path + frames)]
    for row in range(first_row, height):
        next_level: list[tuple[CallNode, int, tuple[Frame, ...]]] = []
        for parent, parent_offset, parent_path in level:
            parent_end = parent_offset + max(parent.total, 0)
            for child, offset, total in _child_spans(parent, parent_offset, parent_end):
                if total * width < min_cells * scale:
                    # Narrower than min_cells at its exact width; children come largest
                    # first, so every later sibling is too.
                    break
                if child.frame is None:
                    continue
                x0, x1 = edge(offset), edge(offset + total)
                path = (*parent_path, child.frame)
                cells.append(_cell(row, x0, x1 - x0, path, child))
                next_level.append((child, offset, path))
        if not next_level:
            break
        level = next_level
    return tuple(cells)


def find_node(root: CallNode, path: tuple[Frame, ...]) -> CallNode | None:
    """The node at `path` (as in IcicleCell.path), or None when it is not in the tree."""
    node = root
    rest = path
    if root.frame is not None:
        if not path or path[0] != root.frame:
            return None
        rest = path[1:]
    for frame in rest:
        for child in node.children:
            if child.frame == frame:
                node = child
                break
        else:
            return None
    return node


def _heir(node: CallNode, least: int) -> CallNode | None:
    """`node`'s widest child when it holds at least `least` samples (and some), else None."""
    child = max(node.children, key=lambda c: c.total, default=None)
    if child is None or child.frame is None or child.total <= 0 or child.total < least:
        return None
    return child


def _child_spans(parent: CallNode, start: int, end: int) -> Iterator[tuple[CallNode, int, int]]:
    """(child, sample offset, clamped samples) for children with samples inside the parent."""
    offset = start
    for child in parent.children:
        if offset >= end:
            return
        total = min(max(child.total, 0), end - offset)
        if total > 0:
            yield child, offset, total
        offset += total


def _cell(row: int, x: int, width: int, path: tuple[Frame, ...], node: CallNode) -> IcicleCell:
    return IcicleCell(
        row=row,
        x=x,
        width=width,
        path=path,
        label=cell_label(node.frame, width - 1, node.delta),
        total=node.total,
        delta=node.delta,
        own=node.own,
    )


def zoom_prefix(snapshot: Snapshot) -> tuple[Frame, ...]:
    """Absolute path above the snapshot's root: the zoom, less the root's own frame."""
    zoom, frame = snapshot.view.zoom, snapshot.root.frame
    if frame is None:
        return zoom
    if zoom and zoom[-1] == frame:
        return zoom[:-1]
    return ()


def cell_text(cell: IcicleCell) -> str:
    """The label padded to the cell, with a separator in its last column."""
    if cell.width <= 1:
        return SEPARATOR[: cell.width]
    pad = cell.width - 1 - cell_len(cell.label)
    return cell.label + " " * max(0, pad) + SEPARATOR
