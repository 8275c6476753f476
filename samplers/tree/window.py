"""Sliding folds: a window's folded counts kept up to date by adding the buckets that
enter it and subtracting those that leave, instead of folding every stack of the window
again for each snapshot. A live 30 s window then costs two buckets' worth of work per
new second, whatever the number of distinct stacks.
"""

from __future__ import annotations

from collections.abc import Mapping

from samplers.tree.buckets import Bucket
from samplers.tree.index import ROOT, THREAD_BITS, THREAD_MASK, StackIndex
from samplers.tree.query import Folded, fold, split


def apply_counts(
    index: StackIndex,
    g: int,
    tids: frozenset[int] | None,
    folded: Folded,
    per_thread: dict[int, int],
    counts: Mapping[int, int],
    sign: int,
    stack_ok: list[bool] | None = None,
) -> int:
    """Add (sign 1) or remove (sign -1) packed `counts` to `folded` and `per_thread`;
    returns the change of the thread-filtered total. Entries that reach 0 are removed.
    With `stack_ok`, only stacks it flags are folded (the total still counts all)."""
    root = folded.root
    trie = index.tries[g]
    key = trie.key
    depth = trie.depth[root] if root != ROOT else 0
    nodes = index.nodes[g]
    funcs_in = index.funcs_in[g]
    totals, own, own_by_key, total_by_key = (
        folded.totals,
        folded.own,
        folded.own_by_key,
        folded.total_by_key,
    )
    filtered = 0
    for packed, count in counts.items():
        c = sign * count
        tid = packed & THREAD_MASK
        _bump(per_thread, tid, c)
        if tids is not None and tid not in tids:
            continue
        filtered += c
        sid = packed >> THREAD_BITS
        if stack_ok is not None and not stack_ok[sid]:
            continue
        path = nodes[sid]
        if depth:
            if len(path) < depth or path[depth - 1] != root:
                continue
            path = path[depth - 1 :]
            funcs: tuple[int, ...] = tuple(dict.fromkeys(key[n] for n in path))
        else:
            funcs = funcs_in[sid]
            totals[ROOT] = totals.get(ROOT, 0) + c
        folded.samples += c
        for n in path:
            _bump(totals, n, c)
        leaf = path[-1] if path else root
        _bump(own, leaf, c)
        if key[leaf] >= 0:
            _bump(own_by_key, key[leaf], c)
        for k in funcs:
            _bump(total_by_key, k, c)
    return filtered


def _bump(d: dict[int, int], k: int, c: int) -> None:
    v = d.get(k, 0) + c
    if v:
        d[k] = v
    else:
        del d[k]


class WindowFold:
    """The folded counts of a window's closed buckets (all but the newest, which may
    still grow), for one granularity, thread selection and zoom root."""

    def __init__(
        self,
        index: StackIndex,
        g: int,
        tids: frozenset[int] | None,
        root: int,
        filtered: bool = False,
    ) -> None:
        self.index = index
        self.g = g
        self.tids = tids
        self.root = root
        self.filtered = filtered  # only stacks flagged by `sync`'s stack_ok are folded
        self._stack_ok: list[bool] | None = None
        self._reset()

    def _reset(self) -> None:
        self.folded = Folded(self.root)
        if self.root != ROOT:
            self.folded.totals[self.root] = 0
        self.per_thread: dict[int, int] = {}
        self.total = 0
        self.members: dict[int, tuple[Bucket, int]] = {}

    def _apply(self, b: Bucket, sign: int) -> None:
        self.total += apply_counts(
            self.index,
            self.g,
            self.tids,
            self.folded,
            self.per_thread,
            b.counts,
            sign,
            self._stack_ok,
        )

    def _build(self, buckets: list[Bucket]) -> None:
        """First fill: merge the buckets and fold them in one go (`fold` counts stacks
        seen once at C speed), rather than bucket by bucket."""
        merged: dict[int, int] = {}
        for b in buckets:
            for packed, count in b.counts.items():
                merged[packed] = merged.get(packed, 0) + count
        stack_counts, self.per_thread = split(merged, self.tids)  # after _reset: none yet
        self.total = sum(stack_counts.values())
        ok = self._stack_ok
        depth = self.index.tries[self.g].depth[self.root] if self.root != ROOT else 0
        nodes = self.index.nodes[self.g]
        chosen = {
            s: c
            for s, c in stack_counts.items()
            if (ok is None or ok[s])
            and (not depth or (len(nodes[s]) >= depth and nodes[s][depth - 1] == self.root))
        }
        self.folded = fold(chosen, self.index, self.g, self.root)
        self.members = {id(b): (b, b.version) for b in buckets}

    def sync(
        self, buckets: list[Bucket], stack_ok: list[bool] | None = None
    ) -> tuple[Folded, dict[int, int], int]:
        """(folded, per-thread counts, thread-filtered total) of exactly `buckets`; when
        the fold is filtered, `stack_ok` flags (per stack id) the stacks it folds."""
        if self.filtered:
            self._stack_ok = stack_ok
        closed = {id(b): b for b in buckets[:-1]}
        if any(b.version != v for b, v in self.members.values()):
            self._reset()  # a member changed after it was counted (late data): start over
        changes = sum(1 for bid in self.members if bid not in closed)
        changes += sum(1 for bid in closed if bid not in self.members)
        if changes > max(2, len(closed) // 2):  # new, or long unused: refold in one go
            self._reset()
            self._build(list(closed.values()))
        for bid in [bid for bid in self.members if bid not in closed]:
            self._apply(self.members.pop(bid)[0], -1)
        for bid, b in closed.items():
            if bid not in self.members:
                self._apply(b, 1)
                self.members[bid] = (b, b.version)
        if not buckets or id(buckets[-1]) in self.members:
            return self.folded, self.per_thread, self.total
        f = self.folded
        out = Folded(
            f.root, f.samples, dict(f.totals), dict(f.own), dict(f.own_by_key), dict(f.total_by_key)
        )
        per_thread = dict(self.per_thread)
        total = self.total + apply_counts(
            self.index, self.g, self.tids, out, per_thread, buckets[-1].counts, 1, self._stack_ok
        )
        return out, per_thread, total
