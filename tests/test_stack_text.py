"""One grammar of stack text: the live py-spy CLI reader and the folded file reader take
py-spy's output apart the same way (samplers/formats/stack_text.py)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from samplers.formats import folded
from samplers.formats.pyspy_raw import parse_raw
from samplers.model import Frame, Sample, Stack
from samplers.processes import process_roots

DATA = Path(__file__).parent / "data"


def _as_a_file_reads_it(samples: tuple[Sample, ...]) -> Counter[tuple[str, Stack]]:
    """Live samples keep process roots as frames; a file names the thread after the
    innermost process instead. The same samples, the file's way."""
    out: Counter[tuple[str, Stack]] = Counter()
    for s in samples:
        roots = process_roots(s.stack)
        thread = f"process {roots[-1][0]} {s.thread}".rstrip() if roots else s.thread
        out[(thread, s.stack[len(roots) :])] += s.count
    return out


@pytest.mark.parametrize(
    "name", ["pyspy-raw-threads.txt", "pyspy-raw-nolineno.txt", "pyspy-raw-subprocesses.txt"]
)
def test_live_chunks_and_saved_files_read_py_spy_output_alike(name: str) -> None:
    # GIVEN real py-spy raw output (threads, no line numbers, subprocesses)
    data = (DATA / name).read_bytes()
    # WHEN the live backend's reader and the folded file reader parse it
    live = _as_a_file_reads_it(parse_raw(data.decode("utf-8"), keep_thread_frame=False))
    saved = Counter({(s.thread, s.stack): s.count for s in folded.read(data).merged()})
    # THEN they find the same threads, frames and counts
    assert live == saved
    assert sum(saved.values()) > 0


def test_a_newline_inside_a_function_name_does_not_break_either_reader() -> None:
    # GIVEN py-spy output where a function's name holds a newline
    text = "thread (7): Main;run (w.py:3);odd\nname (w.py:9) 5\nthread (8): Other;f (a.py:1) 2\n"
    # WHEN read live and as a file
    live = parse_raw(text, keep_thread_frame=False)
    saved = folded.read(text.encode("utf-8")).merged()
    # THEN both see two samples, the odd name whole in one frame
    expected = [("Main", (Frame("run", "w.py", 3), Frame("odd\nname", "w.py", 9)), 5)]
    expected.append(("Other", (Frame("f", "a.py", 1),), 2))
    assert [(s.thread, s.stack, s.count) for s in live] == expected
    assert [(s.thread, s.stack, s.count) for s in saved] == expected
