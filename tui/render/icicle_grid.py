"""Keyboard geometry of a laid-out icicle: rows, the cell a path lands on, and the moves.

Pure like the layout: the widget asks this grid where Up, Down, Left and Right go and
which rows a scroll position shows, so those rules are unit-tested without an App. Paths
here are absolute (from the real root "all"); `prefix` is what lies above the layout root
when the view is zoomed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from samplers.model import Frame
from samplers.tree.snapshot import Snapshot
from tui.render.icicle_layout import IcicleCell, zoom_prefix

Path = tuple[Frame, ...]


@dataclass(frozen=True, slots=True)
class IcicleGrid:
    """The cells of one layout by row, with the lookups navigation needs.

    Cells are linked to the cell they hang from and to their callees by frame, so
    finding a path costs one step per frame: paths of a deep stack are long, and
    hashing every prefix of each would cost the square of the depth."""

    prefix: Path
    rows: tuple[tuple[IcicleCell, ...], ...]
    fold: IcicleCell | None
    up: dict[int, IcicleCell]  # id(cell) -> the cell its path hangs from
    down: dict[int, dict[Frame, IcicleCell]]  # id(cell) -> its callees' cells by frame

    @classmethod
    def of(cls, cells: Iterable[IcicleCell], prefix: Path = ()) -> IcicleGrid:
        grouped: list[list[IcicleCell]] = []
        for cell in cells:
            while cell.row >= len(grouped):
                grouped.append([])
            grouped[cell.row].append(cell)
        rows = tuple(tuple(row) for row in grouped)
        fold = next((c for row in rows[1:2] for c in row if c.is_fold), None)
        up: dict[int, IcicleCell] = {}
        down: dict[int, dict[Frame, IcicleCell]] = {}
        for above, row in zip(rows, rows[1:], strict=False):
            j = 0
            for cell in row:
                # A callee lies inside its caller's span: the caller is the cell above
                # its first column.
                while j + 1 < len(above) and above[j].end <= cell.x:
                    j += 1
                parent = above[j]
                if cell.is_fold or (parent.is_fold and parent.is_open):
                    parent = rows[0][0]  # an open fold's frames hang from the root
                up[id(cell)] = parent
                if not cell.is_fold and cell.frame is not None:
                    down.setdefault(id(parent), {})[cell.frame] = cell
        return cls(prefix, rows, fold, up, down)

    @property
    def root(self) -> IcicleCell | None:
        return self.rows[0][0] if self.rows else None

    def absolute(self, cell: IcicleCell) -> Path:
        return self.prefix + cell.path

    def locate(self, path: Path, on_fold: bool = False) -> IcicleCell | None:
        """The cell the cursor at `path` is on: the fold when `on_fold` and there is one,
        else the deepest shown cell on `path` (the root when none is). A closed fold
        stands for every frame of its chain."""
        root, fold = self.root, self.fold
        if on_fold and fold is not None:
            return fold
        if root is None or path[: len(self.prefix)] != self.prefix:
            return root
        rest = path[len(self.prefix) :]
        if rest[: len(root.path)] != root.path:
            return root
        cell, depth = root, len(root.path)
        if fold is not None and not fold.is_open and rest[depth : depth + 1] == fold.folded[:1]:
            chain = len(fold.folded)
            if rest[depth : depth + chain] != fold.folded:
                return fold  # ends (or leaves the tree) inside the chain
            cell, depth = fold, depth + chain
        while depth < len(rest):
            callee = self.down.get(id(cell), {}).get(rest[depth])
            if callee is None:
                break
            cell, depth = callee, depth + 1
        return cell

    def parent(self, cell: IcicleCell) -> IcicleCell | None:
        """The cell drawn above `cell` that it hangs from (an open fold's first frame
        hangs from the fold row)."""
        if cell.row == 0:
            return None
        fold = self.fold
        if fold is not None and fold.is_open and cell.row == fold.row + 1:
            return fold
        return self.up.get(id(cell))

    def first_child(self, cell: IcicleCell) -> IcicleCell | None:
        """The widest cell drawn under `cell` that hangs from it."""
        below = cell.row + 1
        if below >= len(self.rows):
            return None
        for candidate in self.rows[below]:
            if self.parent(candidate) is cell:
                return candidate
        return None

    def sibling(self, cell: IcicleCell, step: int) -> IcicleCell | None:
        """The cell `step` places to the right (negative: left) on `cell`'s row."""
        row = self.rows[cell.row]
        index = next(i for i, c in enumerate(row) if c is cell) + step
        return row[index] if 0 <= index < len(row) else None

    def moved(self, cell: IcicleCell, move: str, page: int = 1) -> IcicleCell | None:
        """Where a move from `cell` lands (None: nowhere to go). "parent" and "child" go
        one row up or down (the widest callee), "page_up" and "page_down" `page` rows,
        "root" to the top, "hottest" down the widest callees to the last row."""
        if move == "root":
            return self.root
        up = move in ("parent", "page_up")
        steps = {"parent": 1, "child": 1, "page_up": page, "page_down": page}.get(move)
        if steps is None and move != "hottest":
            raise ValueError(f"unknown icicle move {move!r}")
        landed: IcicleCell | None = None
        while steps is None or steps > 0:
            step = self.parent(cell) if up else self.first_child(cell)
            if step is None:
                break
            cell = landed = step
            if steps is not None:
                steps -= 1
        return landed

    def at(self, row: int, x: int) -> IcicleCell | None:
        if not 0 <= row < len(self.rows):
            return None
        for cell in self.rows[row]:
            if cell.x <= x < cell.end:
                return cell
        return None


def scroll_to_show(scroll: int, row: int, visible: int, rows: int) -> int:
    """The first row to show so that `row` is on screen, moving as little as possible
    from `scroll`; never past the end, so the last row sits at the bottom."""
    if visible <= 0:
        return 0
    top = min(scroll, row)
    if row >= top + visible:
        top = row - visible + 1
    return clamp_scroll(top, visible, rows)


def clamp_scroll(scroll: int, visible: int, rows: int) -> int:
    return max(0, min(scroll, rows - visible))


def surviving_path(snapshot: Snapshot, cursor: Path) -> Path:
    """`cursor`, or its deepest ancestor present in `snapshot`'s tree (the shown root
    when the cursor lies outside the zoomed subtree)."""
    prefix = zoom_prefix(snapshot)
    root_path = prefix + (() if snapshot.root.frame is None else (snapshot.root.frame,))
    if cursor[: len(root_path)] != root_path:
        return root_path
    node = snapshot.root
    depth = len(root_path)
    while depth < len(cursor):
        child = next((c for c in node.children if c.frame == cursor[depth]), None)
        if child is None:
            break
        node, depth = child, depth + 1
    return cursor[:depth]
