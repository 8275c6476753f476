"""Pure computations behind `StackTree.snapshot`: choosing a window's stacks by a
resolved Scope (thread filter, zoom, function filter), folding their counts onto the
trie (node totals for the icicle, own/total per function for the table) and building
the immutable, pruned call tree with its baseline deltas.

Each distinct stack carries its trie nodes and its distinct function keys as int tuples
(samplers/tree/index.py), so folding is a walk over short tuples; stacks seen once in
the selection (most of them, in a live window) are counted by `Counter` at C speed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import chain

from samplers.model import Frame
from samplers.tree.index import ROOT, THREAD_BITS, THREAD_MASK, Scope, StackIndex, Trie
from samplers.tree.snapshot import CallNode

_FEW = 8  # up to this many samples, a stack's path is repeated for Counter


@dataclass(slots=True)
class Folded:
    """Counts of one selection of stacks below `root` (ROOT, or the zoomed node)."""

    root: int
    samples: int = 0
    totals: dict[int, int] = field(default_factory=dict)  # node -> samples through it
    own: dict[int, int] = field(default_factory=dict)  # node -> samples ending there
    own_by_key: dict[int, int] = field(default_factory=dict)  # function key -> own
    total_by_key: dict[int, int] = field(default_factory=dict)  # recursion counted once


@dataclass(slots=True)
class Selection:
    """Stacks chosen by window, thread and zoom, folded onto the trie."""

    total: int  # samples after the thread filter, before zoom and function filter
    stack_counts: dict[int, int] | None  # after thread filter and zoom; None: not built
    folded: Folded
    per_thread: dict[int, int]  # before the thread filter


def split(
    pairs: Mapping[int, int], tids: frozenset[int] | None
) -> tuple[dict[int, int], dict[int, int]]:
    """Packed (stack, thread) counts as (stack id -> samples of the threads `tids`,
    thread id -> samples of every thread)."""
    per_thread: dict[int, int] = {}
    stack_counts: dict[int, int] = {}
    for key, count in pairs.items():
        tid = key & THREAD_MASK
        per_thread[tid] = per_thread.get(tid, 0) + count
        if tids is None or tid in tids:
            sid = key >> THREAD_BITS
            stack_counts[sid] = stack_counts.get(sid, 0) + count
    return stack_counts, per_thread


def select(
    pairs: Mapping[int, int], scope: Scope, index: StackIndex, nodes_wanted: bool = True
) -> Selection:
    """Packed counts through the scope's thread filter and zoom, folded."""
    stack_counts, per_thread = split(pairs, scope.tids)
    total = sum(stack_counts.values())
    root = scope.root
    if root is None:
        return Selection(total, {}, Folded(-1), per_thread)
    if root != ROOT:
        depth = scope.depth
        nodes = index.nodes[scope.g]
        stack_counts = {
            s: c
            for s, c in stack_counts.items()
            if len(nodes[s]) >= depth and nodes[s][depth - 1] == root
        }
    folded = fold(stack_counts, index, scope.g, root, nodes_wanted)
    return Selection(total, stack_counts, folded, per_thread)


def totals_each(
    each: list[Mapping[int, int]], scope: Scope, index: StackIndex
) -> list[tuple[int, dict[int, int]]]:
    """(thread-filtered total, samples per function key) of each packed count map."""
    out: list[tuple[int, dict[int, int]]] = []
    for pairs in each:
        sel = select(pairs, scope, index, nodes_wanted=False)
        out.append((sel.total, sel.folded.total_by_key))
    return out


def fold_matching(
    stack_counts: Mapping[int, int], scope: Scope, index: StackIndex, root: int
) -> Folded:
    """Fold only the stacks holding a function that matches the scope's filter."""
    ok = scope.stack_ok
    chosen = stack_counts if ok is None else {s: c for s, c in stack_counts.items() if ok[s]}
    return fold(chosen, index, scope.g, root)


def fold(
    stack_counts: Mapping[int, int],
    index: StackIndex,
    g: int,
    root: int = ROOT,
    nodes_wanted: bool = True,
) -> Folded:
    """Fold `stack_counts` (stack id -> samples; all through `root`) onto trie `g`.
    Zoomed (root != ROOT), only the part of each stack from `root` down is counted, and a
    function is "outermost" within that part."""
    trie = index.tries[g]
    key = trie.key
    cut = trie.depth[root] - 1 if root != ROOT else 0
    stack_nodes = index.nodes[g]
    if root == ROOT:
        funcs = index.funcs_in[g]
        func_sets: Callable[[int], tuple[int, ...]] = funcs.__getitem__
        node_path: Callable[[int], tuple[int, ...]] = stack_nodes.__getitem__
    else:

        def node_path(sid: int) -> tuple[int, ...]:
            return stack_nodes[sid][cut:]

        def func_sets(sid: int) -> tuple[int, ...]:
            return tuple(dict.fromkeys(key[n] for n in stack_nodes[sid][cut:]))

    # Stacks seen a few times are counted by Counter at C speed, each path repeated as
    # often as the stack was seen; only the few hot stacks take the Python loop.
    few = [(sid, c) for sid, c in stack_counts.items() if c <= _FEW]
    many = [(sid, c) for sid, c in stack_counts.items() if c > _FEW]
    out = Folded(root, sum(stack_counts.values()))
    total_by_key: dict[int, int] = Counter(
        chain.from_iterable(func_sets(sid) * c for sid, c in few)
    )
    own: dict[int, int] = {}
    for sid, c in few:
        p = node_path(sid)
        leaf = p[-1] if p else root
        own[leaf] = own.get(leaf, 0) + c
    totals: dict[int, int] = (
        Counter(chain.from_iterable(node_path(sid) * c for sid, c in few)) if nodes_wanted else {}
    )
    get_t = totals.get
    get_k = total_by_key.get
    for sid, c in many:
        path = node_path(sid)
        leaf = path[-1] if path else root
        own[leaf] = own.get(leaf, 0) + c
        if nodes_wanted:
            for n in path:
                totals[n] = get_t(n, 0) + c
        for k in func_sets(sid):
            total_by_key[k] = get_k(k, 0) + c
    own_by_key: dict[int, int] = {}
    for n, c in own.items():
        k = key[n]
        if k >= 0:
            own_by_key[k] = own_by_key.get(k, 0) + c
    if nodes_wanted:
        totals[root] = out.samples
    out.totals, out.own, out.own_by_key, out.total_by_key = totals, own, own_by_key, total_by_key
    return out


def build_calltree(
    folded: Folded,
    trie: Trie,
    keys: list[Frame],
    min_total: int,
    delta: Callable[[int, int], float | None] | None = None,
) -> CallNode:
    """Immutable call tree from the folded nodes, children largest first.

    Nodes under `min_total` samples are left out (their samples stay in the parent's
    total): nothing narrower than a terminal cell can be drawn, and building a frozen
    node per tiny frame would cost more than the rest of the snapshot."""
    totals = folded.totals
    own = folded.own
    key = trie.key
    parent = trie.parent
    root = folded.root
    children: dict[int, list[int]] = {}
    for n, t in totals.items():
        if t >= min_total and n != root:
            children.setdefault(parent[n], []).append(n)
    built: dict[int, CallNode] = {}
    work: list[tuple[int, bool]] = [(root, True)]
    while work:
        node, entering = work.pop()
        if entering:
            work.append((node, False))
            work.extend((c, True) for c in children.get(node, ()))
            continue
        kids = children.get(node, [])
        kids.sort(key=lambda c: (-totals[c], c))
        total = totals.get(node, 0)
        built[node] = CallNode(
            frame=keys[key[node]] if node != ROOT else None,
            total=total,
            own=own.get(node, 0),
            children=tuple(built.pop(c) for c in kids),
            delta=None if delta is None else delta(node, total),
        )
    return built[root]


class RunningFold:
    """A Folded of everything, kept current as samples arrive (no thread filter, no
    zoom): the "since start" view then costs nothing to fold however long the run."""

    def __init__(self, folded: Folded) -> None:
        self.folded = folded

    def add(self, index: StackIndex, g: int, sid: int, count: int) -> None:
        f = self.folded
        totals = f.totals
        get = totals.get
        path = index.nodes[g][sid]
        for n in path:
            totals[n] = get(n, 0) + count
        totals[ROOT] = get(ROOT, 0) + count
        f.samples += count
        leaf = path[-1] if path else ROOT
        f.own[leaf] = f.own.get(leaf, 0) + count
        k = index.tries[g].key[leaf]
        if k >= 0:
            f.own_by_key[k] = f.own_by_key.get(k, 0) + count
        by_key = f.total_by_key
        for k in index.funcs_in[g][sid]:
            by_key[k] = by_key.get(k, 0) + count


class NodeDelta:
    """Share of a call-tree node now minus its share in the baseline, in points. Nodes
    are matched across trees by their path of function keys."""

    def __init__(
        self,
        index: StackIndex,
        base: StackIndex,
        scope: Scope,
        base_totals: dict[int, int],
        n: int,
        nb: int,
    ) -> None:
        g = scope.g
        self._trie = index.tries[g]
        self._keys = scope.keys
        self._base = base
        self._g = g
        self._base_totals = base_totals
        self._n = n
        self._nb = nb
        self._same = index is base
        self._mapped: dict[int, int] = {ROOT: ROOT}

    def _map(self, node: int) -> int:
        path: list[int] = []
        while node not in self._mapped:
            path.append(node)
            node = self._trie.parent[node]
        other = self._mapped[node]
        base_trie = self._base.tries[self._g]
        for mine in reversed(path):
            if other >= 0:
                k = self._base.key_id(self._keys[self._trie.key[mine]], self._g)
                found = None if k is None else base_trie.child(other, k)
                other = -1 if found is None else found
            self._mapped[mine] = other
        return other

    def __call__(self, node: int, total: int) -> float:
        other = node if self._same else self._map(node)
        before = self._base_totals.get(other, 0) if other >= 0 else 0
        return 100.0 * (total / self._n - before / self._nb)
