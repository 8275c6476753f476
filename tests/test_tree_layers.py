"""The tree part (samplers/tree/) has one entry point and calls that go one way.

Its modules are declared in layers, top first: a module imports only modules of lower
layers, and a call made while building a snapshot never enters a module higher than
the caller's, nor one already on the call stack below a module it left (no
ping-pong, no callbacks bouncing back up). Running this file as a script prints the
figures of a traced `StackTree.snapshot`.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from samplers.model import Frame, Sample, SampleBatch
from samplers.tree.snapshot import View
from samplers.tree.stacktree import StackTree

TREE = Path(__file__).resolve().parent.parent / "samplers" / "tree"

# Top first. A module may import (and call) only modules of the layers below its own.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"modes"}),
    frozenset({"stacktree"}),
    frozenset({"data"}),
    frozenset({"window"}),
    frozenset({"query"}),
    frozenset({"index", "buckets", "history"}),
    frozenset({"snapshot"}),
)
LEVEL = {name: depth for depth, names in enumerate(LAYERS) for name in names}


def tree_imports() -> dict[str, set[str]]:
    """Per module of samplers/tree/, the modules of samplers/tree/ it imports."""
    out: dict[str, set[str]] = {}
    for path in sorted(TREE.glob("*.py")):
        if path.stem == "__init__":
            continue
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[:2] == ["samplers", "tree"] and len(parts) > 2:
                    if (TREE / f"{parts[2]}.py").exists():
                        found.add(parts[2])
        out[path.stem] = found - {path.stem}
    return out


ROOT = TREE.parent.parent
# What the rest of flametop may import from samplers/tree/: the entry points and the
# frozen values they hand out. tui/saving.py shares the index's text matcher (one rule
# for what a typed pattern matches, in the table and in saved files).
ENTRY = frozenset({"stacktree", "modes", "snapshot"})
SHARED = frozenset({("tui/saving.py", "index")})


def outside_imports() -> set[tuple[str, str]]:
    """(file, tree module) for each import of samplers/tree/ from outside it."""
    found: set[tuple[str, str]] = set()
    for top in ("samplers", "tui", "bench"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if TREE in path.parents:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module:
                    parts = node.module.split(".")
                    if parts[:2] == ["samplers", "tree"]:
                        names = parts[2:3] or [a.name for a in node.names]
                        found.update((str(path.relative_to(ROOT)), n) for n in names)
                elif isinstance(node, ast.Import):
                    for a in node.names:
                        parts = a.name.split(".")
                        if parts[:2] == ["samplers", "tree"] and len(parts) > 2:
                            found.add((str(path.relative_to(ROOT)), parts[2]))
    return found


@dataclass
class Trace:
    sequence: list[str]  # module of every Python call inside samplers/tree/, in order
    up_calls: list[tuple[str, str]]  # (caller, callee) where the callee is a higher layer
    bounces: list[tuple[str, str]]  # (caller, callee) re-entering a module left below


def _module(frame: FrameType | None) -> str | None:
    if frame is None:
        return None
    path = Path(frame.f_code.co_filename)
    return path.stem if path.parent == TREE else None


def trace(call: Callable[[], Any]) -> Trace:
    """Run `call` under sys.setprofile and record every call entering samplers/tree/."""
    result = Trace([], [], [])

    def profile(frame: FrameType, event: str, _arg: object) -> None:
        if event != "call":
            return
        callee = _module(frame)
        if callee is None:
            return
        result.sequence.append(callee)
        caller = _module(frame.f_back)
        if caller is None or caller == callee:
            return
        if LEVEL[caller] > LEVEL[callee]:
            result.up_calls.append((caller, callee))
        below = frame.f_back.f_back if frame.f_back is not None else None
        while below is not None:
            if _module(below) == callee:
                result.bounces.append((caller, callee))
                break
            below = below.f_back

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return result


def runs(sequence: list[str]) -> list[str]:
    """The sequence with consecutive calls into the same module merged: one per stay."""
    return [m for i, m in enumerate(sequence) if i == 0 or sequence[i - 1] != m]


def revisits(stays: list[str]) -> int:
    """Stays in a module that an earlier stay had already left."""
    seen: set[str] = set()
    n = 0
    for m in stays:
        n += m in seen
        seen.add(m)
    return n


def busy_tree(stacks: int = 300, seconds: int = 60) -> StackTree:
    """Three threads over `stacks` distinct stacks, one batch per second."""
    tree = StackTree()
    funcs = [Frame(f"f{i}", f"mod{i % 7}.py", i) for i in range(40)]
    shapes = [
        tuple(
            [Frame("main", "app.py", 1)] + [funcs[(s * 7 + d * 3) % 40] for d in range(2 + s % 6)]
        )
        for s in range(stacks)
    ]
    for t in range(seconds):
        samples = tuple(
            Sample(f"worker-{s % 3}", shapes[(s + t) % stacks], 1 + (s * t) % 5)
            for s in range(0, stacks, 2)
        )
        tree.add(SampleBatch(1000.0 + t, 1001.0 + t, samples, "cpu", 100.0))
    return tree


VIEWS = (
    View(),
    View(window_s=None),
    View(window_s=10, end_t=1050.0, thread="worker-1"),
    View(filter="f3", baseline=(1000.0, 1010.0)),
    View(zoom=(Frame("main", "app.py", 0),), by_line=False),
)


def test_tree_modules_import_only_lower_layers() -> None:
    # GIVEN the modules of samplers/tree/ and their declared layers
    imports = tree_imports()
    # THEN every module is declared, and imports only modules of layers below its own
    assert set(imports) == set(LEVEL), "declare each samplers/tree module in LAYERS"
    upward = {(m, dep) for m, deps in imports.items() for dep in deps if LEVEL[dep] <= LEVEL[m]}
    assert upward == set()


def test_the_rest_of_flametop_enters_the_tree_only_through_its_entry_points() -> None:
    # GIVEN every import of samplers/tree/ from the engine, the UI and the benchmarks
    found = outside_imports()
    # THEN each names StackTree's or ModeTrees' module or the frozen snapshot values
    assert {(f, m) for f, m in found if m not in ENTRY} <= SHARED
    assert any(m == "stacktree" for _, m in found)


def test_a_snapshot_calls_only_downwards() -> None:
    # GIVEN a tree of a few hundred stacks over three threads
    tree = busy_tree()
    for view in VIEWS:
        # WHEN a snapshot of the view is built, traced call by call
        traced = trace(partial(tree.snapshot, view))
        # THEN it enters the part through StackTree, and no call goes up a layer or
        # back into a module it came from
        assert traced.sequence[0] == "stacktree"
        assert traced.up_calls == []
        assert traced.bounces == []


def test_crossings_between_modules_do_not_grow_with_the_window() -> None:
    for view in VIEWS:
        # GIVEN two trees of the same 60 seconds of samples
        first, second = busy_tree(seconds=60), busy_tree(seconds=60)
        # WHEN one shows the view over 10 seconds and the other over 40
        few = runs(trace(partial(first.snapshot, replace(view, window_s=10))).sequence)
        many = runs(trace(partial(second.snapshot, replace(view, window_s=40))).sequence)
        # THEN both snapshots pass through the modules in the same stays: no module
        # hands work back and forth per bucket or per stack
        assert few == many


def main() -> None:
    for view in VIEWS:
        tree = busy_tree()
        traced = trace(partial(tree.snapshot, view))
        stays = runs(traced.sequence)
        print(
            f"{view}\n  calls {len(traced.sequence)}, module changes {len(stays) - 1}, "
            f"stays {len(stays)}, returns to a module already left {revisits(stays)}, "
            f"up-calls {len(traced.up_calls)}, bounces {len(traced.bounces)}"
        )
        print("  " + " > ".join(stays[:40]) + (" ..." if len(stays) > 40 else ""))


if __name__ == "__main__":
    main()
