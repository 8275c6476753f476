"""Interning for the StackTree: frames, functions, stacks, threads, and prefix tries.

Everything a batch names is stored once and referred to by a small int from then on, so
buckets hold only ints and per-stack work (function paths, trie positions) is done once
per distinct stack, not once per sample.

Two granularities of function identity exist side by side: 0 is function+file (the
default), 1 is function+file+line (`View.by_line`). Each has its own key table and trie.
A View's thread, process, zoom and filter are resolved here once per snapshot (`Scope`),
so the folds above read plain values instead of asking the index again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from samplers.model import Frame, Stack
from samplers.processes import process_roots
from samplers.tree.snapshot import View

THREAD_BITS = 24  # a bucket key packs (stack id, thread id) into one int: cheap to hash
THREAD_MASK = (1 << THREAD_BITS) - 1
ROOT = 0  # node 0 of every trie is the "all" root


def pack(stack_id: int, thread_id: int) -> int:
    return (stack_id << THREAD_BITS) | thread_id


def text_matcher(pattern: str) -> Callable[[str], bool]:
    """Case-insensitive regex search when `pattern` compiles, else a plain substring test."""
    try:
        rx = re.compile(pattern, re.IGNORECASE)
    except re.error:
        needle = pattern.lower()
        return lambda text: needle in text.lower()
    return lambda text: rx.search(text) is not None


@dataclass(frozen=True, slots=True, eq=False)
class Scope:
    """A View's thread, process, zoom and filter resolved against the index once per
    snapshot, so the folds below take plain values instead of asking the index again."""

    g: int  # granularity: 0 function+file, 1 by line
    plain: bool  # no thread, process or zoom: every stack of every thread
    tids: frozenset[int] | None  # thread ids chosen (None: all)
    root: int | None  # trie node the zoom leads to (ROOT: not zoomed; None: no such path)
    depth: int  # length of the zoom path
    stack_ok: list[bool] | None  # per stack id: holds a function matching the filter
    func_ok: list[bool] | None  # per function key: matches the filter
    keys: list[Frame]  # function identity per key id of granularity g


class Trie:
    """The merged call tree of every stack ever seen, as parallel arrays indexed by node."""

    __slots__ = ("parent", "key", "depth", "index")

    def __init__(self) -> None:
        self.parent: list[int] = [-1]
        self.key: list[int] = [-1]
        self.depth: list[int] = [0]
        self.index: dict[int, int] = {}  # (parent << 32 | key) -> child: ints hash cheaply

    def insert(self, path: Sequence[int]) -> tuple[int, ...]:
        """The nodes along `path` (function keys, root first), created where missing."""
        node = ROOT
        index = self.index
        nodes: list[int] = []
        for key in path:
            child = index.get((node << 32) | key)
            if child is None:
                child = len(self.parent)
                index[(node << 32) | key] = child
                self.parent.append(node)
                self.key.append(key)
                self.depth.append(self.depth[node] + 1)
            nodes.append(child)
            node = child
        return tuple(nodes)

    def child(self, node: int, key: int) -> int | None:
        return self.index.get((node << 32) | key)

    def find(self, path: Sequence[int]) -> int | None:
        node = ROOT
        for key in path:
            child = self.index.get((node << 32) | key)
            if child is None:
                return None
            node = child
        return node


class StackIndex:
    """Interned tables. Grows with distinct stacks (never with samples or time).

    Per stack and granularity it keeps the trie nodes along the stack (`nodes`) and the
    distinct function keys in it (`funcs_in`): folding a count onto a stack is then a
    walk over two short int tuples, and a recursing function is counted once."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []  # granularity 1 keys: the frames themselves
        self.frame_ids: dict[Frame, int] = {}
        self.funcs: list[Frame] = []  # granularity 0 keys: Frame(function, file, 0)
        self.func_ids: dict[Frame, int] = {}
        self.frame_func: list[int] = []
        self.stacks: list[Stack] = []  # canonical tuples of interned Frame objects
        self.stack_ids: dict[Stack, int] = {}
        # A thread is keyed by (pid, name): five processes' MainThreads stay apart.
        self.threads: list[str] = []  # names, by thread id
        self.thread_pids: list[int] = []  # process of each thread id (0: unknown)
        self.thread_ids: dict[tuple[int, str], int] = {}
        # Per stack: the process its `process PID:` root frames name (0: none), and the
        # command line each such root gave its pid.
        self.stack_pids: list[int] = []
        self.cmdlines: dict[int, str] = {}
        self.tries = (Trie(), Trie())
        self.nodes: tuple[list[tuple[int, ...]], list[tuple[int, ...]]] = ([], [])
        self.funcs_in: tuple[list[tuple[int, ...]], list[tuple[int, ...]]] = ([], [])
        self._thread_match: tuple[tuple[str, int], frozenset[int]] | None = None
        self._selection: tuple[tuple[str | None, int | None, int], frozenset[int] | None] | None
        self._selection = None
        self._func_match: dict[tuple[str, int], tuple[list[bool], list[bool]]] = {}

    def keys(self, g: int) -> list[Frame]:
        return self.frames if g else self.funcs

    def intern_thread(self, name: str, pid: int = 0) -> int:
        tid = self.thread_ids.get((pid, name))
        if tid is None:
            tid = len(self.threads)
            if tid > THREAD_MASK:
                raise OverflowError("more distinct thread names than the stack tree can key")
            self.thread_ids[(pid, name)] = tid
            self.threads.append(name)
            self.thread_pids.append(pid)
        return tid

    def intern_stack(self, stack: Stack) -> int:
        sid = self.stack_ids.get(stack)
        if sid is not None:
            return sid
        # Keep a tuple of our own interned Frame objects so a sampler that builds fresh
        # Frame objects for every batch does not make us hold millions of duplicates.
        canonical = tuple(self.frames[self._intern_frame(f)] for f in stack)
        sid = len(self.stacks)
        self.stacks.append(canonical)
        self.stack_ids[canonical] = sid
        roots = process_roots(canonical)
        for pid, cmdline in roots:
            if cmdline or pid not in self.cmdlines:
                self.cmdlines[pid] = cmdline
        self.stack_pids.append(roots[-1][0] if roots else 0)
        return sid

    def _intern_frame(self, frame: Frame) -> int:
        fid = self.frame_ids.get(frame)
        if fid is None:
            fid = len(self.frames)
            self.frame_ids[frame] = fid
            self.frames.append(frame)
            func = Frame(frame.function, frame.file, 0)
            gid = self.func_ids.get(func)
            if gid is None:
                gid = len(self.funcs)
                self.func_ids[func] = gid
                self.funcs.append(func)
            self.frame_func.append(gid)
        return fid

    def key_id(self, frame: Frame, g: int) -> int | None:
        if g:
            return self.frame_ids.get(frame)
        return self.func_ids.get(Frame(frame.function, frame.file, 0))

    def ensure(self, g: int) -> int:
        """Place every stack interned so far in trie `g`; returns how many were new."""
        nodes = self.nodes[g]
        funcs_in = self.funcs_in[g]
        trie = self.tries[g]
        frame_ids = self.frame_ids
        frame_func = self.frame_func
        start = len(nodes)
        for sid in range(start, len(self.stacks)):
            path = [frame_ids[f] for f in self.stacks[sid]]
            if not g:
                path = [frame_func[i] for i in path]
            nodes.append(trie.insert(path))
            funcs_in.append(tuple(dict.fromkeys(path)))
        return len(nodes) - start

    def scope(self, view: View, g: int) -> Scope:
        """`view` resolved for granularity `g`; every stack so far is placed in trie `g`."""
        self.ensure(g)
        stack_ok = func_ok = None
        if view.filter:
            stack_ok = self.stack_matches(view.filter, g)
            func_ok = self.func_matches(view.filter, g)
        return Scope(
            g,
            not view.thread and view.process is None and not view.zoom,
            self.selection(view.thread or None, view.process),
            self.zoom_root(view.zoom, g),
            len(view.zoom),
            stack_ok,
            func_ok,
            self.keys(g),
        )

    def zoom_root(self, zoom: Sequence[Frame], g: int) -> int | None:
        """The trie node `zoom` leads to (ROOT when empty), None if no such path."""
        if not zoom:
            return ROOT
        ids = [self.key_id(f, g) for f in zoom]
        if None in ids:
            return None
        return self.tries[g].find([k for k in ids if k is not None])

    def func_matches(self, pattern: str, g: int) -> list[bool]:
        """Per key id of granularity g: does the function or file name match `pattern`?"""
        cached = self._func_match.get((pattern, g))
        keys = self.keys(g)
        if cached is None:
            if len(self._func_match) > 8:  # a user typing a filter makes many patterns
                self._func_match.clear()
            cached = ([], [])
            self._func_match[(pattern, g)] = cached
        flags = cached[0]
        if len(flags) < len(keys):
            match = text_matcher(pattern)
            flags.extend(match(k.function) or match(k.file) for k in keys[len(flags) :])
        return flags

    def stack_matches(self, pattern: str, g: int) -> list[bool]:
        """Per stack id: does the stack contain a function matching `pattern`?"""
        flags = self.func_matches(pattern, g)
        per_stack = self._func_match[(pattern, g)][1]
        funcs_in = self.funcs_in[g]
        per_stack.extend(
            any(flags[k] for k in funcs_in[sid]) for sid in range(len(per_stack), len(funcs_in))
        )
        return per_stack

    def selection(self, pattern: str | None, pid: int | None) -> frozenset[int] | None:
        """Thread ids whose name matches `pattern` and whose process is `pid`; None when
        neither narrows (every thread)."""
        if pattern is None and pid is None:
            return None
        key = (pattern, pid, len(self.threads))
        if self._selection is not None and self._selection[0] == key:
            return self._selection[1]
        ids: Iterable[int] = self.threads_matching(pattern) if pattern else range(len(self.threads))
        if pid is not None:
            pids = self.thread_pids
            ids = (t for t in ids if pids[t] == pid)
        chosen = frozenset(ids)
        self._selection = (key, chosen)
        return chosen

    def threads_matching(self, pattern: str) -> frozenset[int]:
        key = (pattern, len(self.threads))
        if self._thread_match is None or self._thread_match[0] != key:
            match = text_matcher(pattern)
            ids = frozenset(tid for tid, name in enumerate(self.threads) if match(name))
            self._thread_match = (key, ids)
        return self._thread_match[1]
