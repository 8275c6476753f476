"""Folded stacks (Brendan Gregg's `frame;frame COUNT`), as py-spy's `--format raw` writes.

Writing: one line per (thread, stack) with its count summed over the batches, sorted by
the stack's text, root first, frames labelled `function (file:line)`.
When the profile has more than one named thread, each line starts with a `thread (NAME)`
root frame. Names cannot contain the separator, so `;` becomes `;` (U+037E, GREEK
QUESTION MARK, which looks the same), a `#` starting a line becomes `＃` (U+FF03) so it is
not taken for a comment, and control characters (newlines, ESC, ...) become
their visible Unicode "control pictures" (U+2400 block), bidi controls U+FFFD. Nothing but
`stack count` lines: flamegraph.pl and inferno warn about any other line, and a strict
consumer (Pyroscope's `format=folded`) may refuse it; metadata stays in the formats that
carry it (capture, pprof, speedscope, SVG).

Reading (the grammar is stack_text's, shared with the live py-spy CLI backend): py-spy
raw output (with `--threads`, `--subprocesses`, `--nolineno`), our own output (older
versions began with `# key: "value"` metadata comments, still read), and
Austin's collapsed text (`P<pid>;T<thread>;file:function:line;... N`). The count
is always the last space-separated field of a line.
"""

from __future__ import annotations

import json
import re

from samplers.errors import FormatError
from samplers.formats.common import (
    MAX_DEPTH,
    MAX_LINE,
    check_count,
    distinct_threads,
    has_thread_root,
    intern_frame,
    merged,
    metadata_from_dict,
    safe_text,
    single_batch_profile,
)
from samplers.formats.stack_text import FrameCache, parse_frame, records, split_stack
from samplers.model import Frame, Profile, Sample, Stack, merge_samples
from samplers.processes import process_roots

SEMICOLON_LOOKALIKE = "\u037e"

_META = re.compile(r"^#\s*(?P<key>[A-Za-z_][\w.-]*)\s*:\s*(?P<value>.*)$")
_AUSTIN_PROCESS = re.compile(r"^P\d+$")
_AUSTIN_THREAD = re.compile(r"^T[\w:.-]+$")


# Bidi controls would reorder a line shown in a terminal or editor (as "Trojan Source"):
# they become U+FFFD, visibly.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(name: str) -> str:
    return _BIDI.sub("\ufffd", safe_text(name)).replace(";", SEMICOLON_LOOKALIKE)


def _label(frame: Frame) -> str:
    function = _escape(frame.function) or "?"
    if not frame.file:
        return function
    return Frame(function, _escape(frame.file), frame.line).label()


def _process_root(pid: int, profile: Profile) -> str:
    """A `process PID:"cmdline"` root as py-spy's --subprocesses writes it."""
    meta = profile.metadata
    cmdline = " ".join(meta.cmdline) if pid == meta.pid else ""
    return _label(Frame(f'process {pid}:"{cmdline}"'))


def write(profile: Profile) -> bytes:
    """The profile as folded text (UTF-8): `stack count` lines only. With several
    processes every line starts with its process roots, then its thread's root."""
    lines: list[str] = []
    named = [t for t in distinct_threads(profile) if t]
    with_threads = len(named) > 1
    pids = {s.pid for b in profile.batches for s in b.samples}
    several = len(pids - {0}) > 1
    labels: dict[int, str] = {}  # by frame identity: labelling is the costly part
    # Batches parsed apart hold equal frames as distinct objects, which merged() keeps
    # apart: sum again by the line's text, so each (thread, stack) is written once.
    counts: dict[str, int] = {}
    for sample in merged(profile):
        if sample.count <= 0:
            continue
        parts = []
        for f in sample.stack:
            text = labels.get(id(f))
            if text is None:
                text = labels[id(f)] = _label(f)
            parts.append(text)
        # a thread's root goes below its process roots: one MainThread per process
        below = len(process_roots(sample.stack))
        if several and not below and sample.pid:
            parts.insert(0, _process_root(sample.pid, profile))
            below = 1
        thread_root = below < len(parts) and parts[below].startswith("thread (")
        if with_threads and sample.thread and not thread_root and not has_thread_root(sample):
            parts.insert(below, f"thread ({_escape(sample.thread)})")
        if not parts:
            parts = ["?"]
        stack = ";".join(parts)
        if stack.startswith("#"):  # would read as a comment: use the fullwidth lookalike
            stack = "\uff03" + stack[1:]
        counts[stack] = counts.get(stack, 0) + sample.count
    lines.extend(f"{stack} {counts[stack]}" for stack in sorted(counts))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _austin_frame(text: str, cache: FrameCache) -> Frame:
    if text == ":INVALID:":  # Austin's mark for a frame it could not read
        return intern_frame(cache, "<invalid frame>", "", 0)
    file, _, rest = text.rpartition(":")
    if file and rest.isdigit():
        path, _, function = file.rpartition(":")
        if path:
            return intern_frame(cache, function, path, int(rest))
    return parse_frame(text, cache)


def read(data: bytes) -> Profile:
    """Parse folded stacks. Raises FormatError naming the first bad line."""
    if not data.strip():
        raise FormatError("is empty")
    text = data.decode("utf-8", errors="replace")
    meta: dict[str, str] = {}
    samples: list[Sample] = []
    cache: FrameCache = {}
    austin = False
    lines = text.split("\n")
    for number, raw in enumerate(lines, 1):
        if len(raw) > MAX_LINE:
            raise FormatError(
                f"line {number} is longer than {MAX_LINE >> 20} MiB; not a folded profile"
            )
    for number, record in records(lines, anchored=False):
        line = record.strip("\r\t ")
        if not line:
            continue
        if line.startswith("#"):
            m = _META.match(line)
            if m is not None:
                value = m.group("value")
                if value.startswith('"'):
                    try:
                        value = str(json.loads(value))
                    except ValueError:
                        pass
                meta[m.group("key")] = value
            continue
        stack_text, sep, count_text = line.rpartition(" ")
        if not sep or not count_text.isdigit() or not stack_text:
            raise FormatError(
                f"line {number} has no sample count at the end (expected `frame;frame COUNT`)"
            )
        count = check_count(int(count_text), f"line {number}")
        if stack_text.count(";") >= MAX_DEPTH:
            raise FormatError(f"line {number} has a stack deeper than {MAX_DEPTH} frames")
        parts = stack_text.split(";", 2)
        if len(parts) >= 2 and _AUSTIN_PROCESS.match(parts[0]) and _AUSTIN_THREAD.match(parts[1]):
            austin = True
            thread = f"{parts[0][1:]} {parts[1][1:]}"
            stack = tuple(_austin_frame(p, cache) for p in stack_text.split(";")[2:])
        else:
            thread, stack = _pyspy_stack(stack_text, cache)
        samples.append(Sample(thread, stack, count))
    if austin:
        return _austin_profile(samples, meta)
    return single_batch_profile(samples, metadata_from_dict(meta, "folded"))


def _pyspy_stack(stack_text: str, cache: FrameCache) -> tuple[str, Stack]:
    """A py-spy or flametop stack as (thread, frames): its process and thread roots name
    the thread (`process PID name`, the innermost process) and leave the stack."""
    parts = split_stack(stack_text, glue=False)
    thread = parts.thread
    if parts.processes:
        process = f"process {parts.processes[-1][0]}"
        thread = f"{process} {thread}" if thread else process
    return thread, tuple(parse_frame(p, cache) for p in parts.frames)


def _austin_profile(samples: list[Sample], meta: dict[str, str]) -> Profile:
    """Austin writes one line per sample, its metric the time in µs since the thread's
    previous sample (wall/cpu) or bytes (memory). Time is summed per stack, then turned
    into sample counts at its `# interval:` (µs), rounding once per stack rather than per
    line; a stack with no frames is a thread seen without Python code, dropped."""
    interval = int(meta["interval"]) if meta.get("interval", "").isdigit() else 0
    mode = meta.get("mode", "")
    timed = interval > 0 and mode in ("wall", "cpu")
    out = []
    for s in merge_samples(s for s in samples if s.stack):
        count = max(1, round(s.count / interval)) if timed else s.count
        out.append(Sample(s.thread, s.stack, count))
    values = dict(meta)
    if timed:
        values.setdefault("rate", f"{1e6 / interval:g}")
    values.pop("interval", None)
    metadata = metadata_from_dict(values, "austin")
    return single_batch_profile(out, metadata, rate=1e6 / interval if timed else None)
