"""What flametop knows about the py-spy executable: where it is, how to read its
`--format raw` output, and how to turn its error text into a FlametopError that names
the fix."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from samplers.errors import (
    FlametopError,
    NotPythonError,
    SamplerFailedError,
    TargetNotFoundError,
)
from samplers.model import Frame, Sample
from samplers.permissions import permission_error
from samplers.system import find_tool

PYSPY_ENV = "FLAMETOP_PYSPY"

# `function (file:line)`; greedy function part so the split is at the last " (".
_FRAME_RE = re.compile(r"^(?P<func>.*) \((?P<file>.*?)(?::(?P<line>\d+))?\)$", re.DOTALL)
# `thread (2984): Name` or `thread (0x7f3a...): Name`
_THREAD_RE = re.compile(r"^thread \((?P<tid>0x[0-9a-fA-F]+|\d+)\)(?::\s?(?P<name>.*))?$", re.DOTALL)
_PROCESS_HEAD_RE = re.compile(r'^process (?P<pid>\d+):"?')
_SAMPLES_RE = re.compile(r"Samples:\s*(\d+)\s+Errors:\s*(\d+)")


def find_pyspy() -> str:
    """The py-spy to run: $FLAMETOP_PYSPY, else PATH, else next to this interpreter."""
    return find_tool(
        "py-spy",
        PYSPY_ENV,
        "py-spy is not installed: run `pip install py-spy` in flametop's environment "
        f"(or set {PYSPY_ENV}=/path/to/py-spy)",
    )


def pyspy_version(exe: str) -> str:
    """'py-spy 0.4.3', or 'py-spy' when the version cannot be read."""
    try:
        out = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            [exe, "--version"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "py-spy"
    return out if out.startswith("py-spy") else "py-spy"


@dataclass(frozen=True, slots=True)
class RunSummary:
    """py-spy's own end-of-run count: sampling ticks taken (idle ones included)."""

    samples: int
    errors: int


def parse_run_summary(stdout: str) -> RunSummary | None:
    match = _SAMPLES_RE.search(stdout)
    if match is None:
        return None
    return RunSummary(int(match.group(1)), int(match.group(2)))


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


def classify_failure(pid: int, stderr: str, stdout: str = "") -> FlametopError:
    """Turn py-spy's error output into the error class a user can act on."""
    text = f"{stderr}\n{stdout}"
    low = text.lower()
    if "permission denied" in low or "operation not permitted" in low:
        return permission_error(pid)
    unsupported = re.search(r"unsupported version of python:?\s*([\w.+-]*)", low)
    if unsupported:
        version = f"Python {unsupported.group(1)}" if unsupported.group(1) else "a Python"
        return NotPythonError(
            f"pid {pid} runs {version} that this py-spy cannot read: upgrade py-spy "
            "(`pip install -U py-spy` in flametop's environment, or point "
            f"{PYSPY_ENV} at a newer one)"
        )
    if "failed to find python version" in low or "not a python" in low:
        return NotPythonError(
            f"pid {pid} is not a Python process py-spy can read: give the pid of the "
            "python interpreter itself (not a shell or wrapper)"
        )
    if "no such file or directory" in low or "no such process" in low:
        return TargetNotFoundError(
            f"no process with pid {pid}: check the pid with `ps` (it may have exited)"
        )
    return SamplerFailedError(f"py-spy failed on pid {pid}: {first_error_line(text)}")


def first_error_line(text: str) -> str:
    """The most telling line of py-spy's output, without Rust backtraces."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Error:") or line.lower().startswith("permission"):
            return line.removeprefix("Error:").strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0] if lines else "no error message"
