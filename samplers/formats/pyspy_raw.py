"""py-spy's `--format raw` grammar: one `frame;frame;... count` record per stack, with
optional `process PID:"cmd"` and `thread (TID): name` roots. Parses the live chunks of
the py-spy CLI backend: text in, Samples out (nothing here runs a program)."""

from __future__ import annotations

import re

from samplers.model import Frame, Sample

# `function (file:line)`; greedy function part so the split is at the last " (".
_FRAME_RE = re.compile(r"^(?P<func>.*) \((?P<file>.*?)(?::(?P<line>\d+))?\)$", re.DOTALL)
# `thread (2984): Name` or `thread (0x7f3a...): Name`
_THREAD_RE = re.compile(r"^thread \((?P<tid>0x[0-9a-fA-F]+|\d+)\)(?::\s?(?P<name>.*))?$", re.DOTALL)
_PROCESS_HEAD_RE = re.compile(r'^process (?P<pid>\d+):"?')


def parse_frame(text: str) -> Frame:
    match = _FRAME_RE.match(text)
    if match is None:
        return Frame(text)
    line = match.group("line")
    return Frame(match.group("func"), match.group("file"), int(line) if line else 0)


def _split_frames(text: str) -> list[str]:
    """Split on ';' but glue back pieces that are not whole frames, so a `;` inside a
    function or file name does not cut a frame in two."""
    out: list[str] = []
    pieces = text.split(";")
    if _THREAD_RE.match(pieces[0]) and any(_FRAME_RE.match(p) for p in pieces[1:]):
        # A thread name may hold `;` too: it runs up to the first piece that is a frame.
        head = pieces.pop(0)
        while not _FRAME_RE.match(pieces[0]):
            head += ";" + pieces.pop(0)
        out.append(head)
    pending = ""
    for piece in pieces:
        pending = f"{pending};{piece}" if pending else piece
        if pending.endswith(")") or _THREAD_RE.match(pending):
            out.append(pending)
            pending = ""
    if pending:
        out.append(pending)
    return out


def _strip_process(text: str) -> tuple[str, str]:
    """Split a `process PID:"cmdline";rest` head off. The command line may hold `;` and
    `"`, so take the first `";` after which the rest reads as frames."""
    head = _PROCESS_HEAD_RE.match(text)
    if head is None:
        return "", text
    start = head.end()
    quoted = text[start - 1] == '"'
    sep = '";' if quoted else ";"
    pos = text.find(sep, start)
    while pos != -1:
        rest = text[pos + len(sep) :]
        first = rest.split(";", 1)[0]
        if _THREAD_RE.match(first) or _FRAME_RE.match(first) or first.startswith("process "):
            return text[: pos + (1 if quoted else 0)], rest
        pos = text.find(sep, pos + 1)
    return text, ""


def parse_raw_line(line: str, keep_thread_frame: bool) -> Sample | None:
    """One `frame;frame;... COUNT` line to a Sample (root first); None if malformed.

    A `thread (tid): Name` root names the sample's thread; it stays in the stack as a
    root frame only when the user asked for per-thread roots."""
    line = line.rstrip("\r\n ")
    stack_text, _, count_text = line.rpartition(" ")
    if not stack_text or not count_text.isdigit():
        return None
    frames: list[Frame] = []
    thread = ""
    rest = stack_text
    while rest.startswith("process "):
        proc, rest = _strip_process(rest)
        frames.append(Frame(" ".join(proc.split())))  # a command line may hold newlines
    for token in _split_frames(rest) if rest else []:
        thread_match = _THREAD_RE.match(token)
        if thread_match is not None and not thread:
            name = (thread_match.group("name") or "").strip()
            thread = name or thread_match.group("tid")
            if keep_thread_frame:
                # `thread (NAME)`: the root the folded format writes and reads back
                frames.append(Frame(f"thread ({thread})"))
            continue
        frames.append(parse_frame(token))
    if not frames:
        return None
    return Sample(thread, tuple(frames), int(count_text))


_RECORD_HEAD_RE = re.compile(r"^(?:process \d+:|thread \((?:0x[0-9a-fA-F]+|\d+)\))")
_RECORD_END_RE = re.compile(r" \d+\r?$")


def _records(text: str) -> list[str]:
    """Records of raw output. py-spy writes names as they are, so a function, file or
    thread name (or a command line with --subprocesses) may hold newlines: with the
    thread root flametop always asks for, a record starts only with a `thread (` or
    `process PID:` root after a record that ended in its count."""
    lines = text.split("\n")
    if not _RECORD_HEAD_RE.match(text):
        return lines  # no roots to anchor on (output of other options): one per line
    records: list[str] = []
    for line in lines:
        if records and not (_RECORD_HEAD_RE.match(line) and _RECORD_END_RE.search(records[-1])):
            records[-1] += "\n" + line
        else:
            records.append(line)
    return records


def parse_raw(text: str, keep_thread_frame: bool) -> tuple[Sample, ...]:
    samples = (parse_raw_line(rec, keep_thread_frame) for rec in _records(text) if rec)
    return tuple(s for s in samples if s is not None)
