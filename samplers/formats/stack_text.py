"""The one grammar of stacks as text, as py-spy's `--format raw` and folded files write
them: a record is `root;...;leaf COUNT`, root first, the count its last field.

- a frame is `function (file:line)`, `function (file)` (py-spy --nolineno) or a bare name;
- py-spy --subprocesses starts a record with one `process PID:"cmdline"` root per
  process from the one attached to down to the one sampled;
- then a thread root: py-spy's `thread (TID): name` (--threads) or `thread (NAME)`, the
  one flametop's folded writer puts there.

py-spy writes names as they are, so a function, file or thread name may hold `;` and a
command line (or any name) a newline. Both readers take records apart here: the live py-spy
CLI's chunks (pyspy_raw.py) and folded files (folded.py). Text in, parts out: what a root
becomes in a Profile is the caller's choice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from samplers.formats.common import intern_frame
from samplers.model import Frame

# Greedy function part, parenthesis-free file: the split is at the last ` (` whose rest
# is a file, so a function name may hold ` (`; a file with parentheses reads as a bare name.
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d{1,9}))?\)$", re.S)
PYSPY_THREAD = re.compile(r"^thread \((?P<tid>0x[0-9a-fA-F]+|\d+)\)(?:: ?(?P<name>.*))?$", re.S)
OUR_THREAD = re.compile(r"^thread \((?P<name>.*)\)$", re.S)
PROCESS = re.compile(r'^process (?P<pid>\d+):"?')
_RECORD_HEAD = re.compile(r"^(?:process \d+:|thread \((?:0x[0-9a-fA-F]+|\d+)\))")
_RECORD_END = re.compile(r" \d+\s*$")
MAX_JOINED_LINES = 64  # a record spread over more lines than this is not one

FrameCache = dict[tuple[str, str, int], Frame]


@dataclass(frozen=True, slots=True)
class StackText:
    """One record's stack taken apart. `processes`: (pid, root as written) per process
    root, outermost first; `thread`: the thread root's name (its id when unnamed), ""
    without one; `frames`: the frames' texts, root first (parse each with parse_frame)."""

    processes: tuple[tuple[int, str], ...]
    thread: str
    frames: tuple[str, ...]


def parse_frame(text: str, cache: FrameCache | None = None) -> Frame:
    """`function (file:line)`, `function (file)` or a bare name as a Frame. With a cache,
    equal texts give the same Frame object (and skip the regex)."""
    if cache is None:
        cache = {}
    known = cache.get((text, "\0", -1))
    if known is not None:
        return known
    m = FRAME.match(text)
    if m is None:
        frame = intern_frame(cache, text, "", 0)
    else:
        line = m.group("line")
        frame = intern_frame(cache, m.group("function"), m.group("file"), int(line or 0))
    cache[(text, "\0", -1)] = frame
    return frame


def is_frame(text: str) -> bool:
    return FRAME.match(text) is not None


def starts_with_root(text: str) -> bool:
    """Does the text start with a `process PID:` or a py-spy `thread (TID)` root?"""
    return _RECORD_HEAD.match(text) is not None


def records(lines: list[str], anchored: bool) -> Iterator[tuple[int, str]]:
    """(number of its first line, text) of each record, lines joined with `\\n` where a
    name held a newline: a record that starts with a root and has no count yet goes on
    on the next line. `anchored`: every record starts with a root (flametop always asks
    py-spy for --threads), so a line that does not start with one goes on the record
    before it too."""
    number, current, joined = 0, "", 0
    for i, line in enumerate(lines, 1):
        if i > 1:
            open_ended = starts_with_root(current) and not _RECORD_END.search(current)
            go_on = open_ended or (anchored and not starts_with_root(line))
            if go_on and joined < MAX_JOINED_LINES:
                current += "\n" + line
                joined += 1
                continue
            yield number, current
        number, current, joined = i, line, 0
    if lines:
        yield number, current


def split_stack(text: str, glue: bool) -> StackText:
    """The roots and frame texts of a record's stack (the text before its count).

    `glue`: every frame is `function (file...)`, as py-spy writes them, so a piece
    between `;`s that does not end in `)` is part of a name and joins the next piece.
    Otherwise (folded files from anywhere) a frame may be a bare name: `;` always splits.
    """
    processes: list[tuple[int, str]] = []
    rest = text
    while (process := PROCESS.match(rest)) is not None:
        root, rest = _take_process(rest, process.end())
        processes.append((int(process.group("pid")), root))
    pieces = rest.split(";") if rest else []
    thread = ""
    if pieces:
        spy = PYSPY_THREAD.match(pieces[0])
        ours = OUR_THREAD.match(pieces[0]) if spy is None and len(pieces) > 1 else None
        if spy is not None:
            # A thread name may hold `;` too: it runs up to the first piece that is a frame.
            head = pieces.pop(0)
            if any(is_frame(p) for p in pieces):
                while not is_frame(pieces[0]):
                    head += ";" + pieces.pop(0)
            spy = PYSPY_THREAD.match(head)
            assert spy is not None  # it matched before more of the name was added
            thread = spy.group("name") or ""
            thread = thread if thread.strip() else spy.group("tid")
        elif ours is not None:
            thread = ours.group("name")
            pieces.pop(0)
    return StackText(tuple(processes), thread, tuple(_glued(pieces) if glue else pieces))


def _glued(pieces: list[str]) -> list[str]:
    out: list[str] = []
    pending = ""
    for piece in pieces:
        pending = f"{pending};{piece}" if pending else piece
        if pending.endswith(")"):
            out.append(pending)
            pending = ""
    if pending:
        out.append(pending)
    return out


def _take_process(text: str, start: int) -> tuple[str, str]:
    """Split a `process PID:"cmdline";rest` root off (`start`: where the command line
    begins). The command line may hold `;` and `"`, so it ends at the first `";` after
    which the rest reads as a root or a frame."""
    quoted = text[start - 1] == '"'
    sep = '";' if quoted else ";"
    pos = text.find(sep, start)
    while pos != -1:
        rest = text[pos + len(sep) :]
        first = rest.split(";", 1)[0]
        if PYSPY_THREAD.match(first) or is_frame(first) or first.startswith("process "):
            return text[: pos + (1 if quoted else 0)], rest
        pos = text.find(sep, pos + 1)
    return text, ""
