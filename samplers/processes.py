"""Which process a sample came from: its `pid` when the sampler knew it (the in-process
backend), else the `process PID:"cmdline"` root frames py-spy's `--subprocesses` puts at
the top of a stack (the CLI backend, saved folded files). Shared by the stack tree and
the formats, so every view of a profile names the same process."""

from __future__ import annotations

import re

from samplers.model import Sample, Stack

_PROCESS_ROOT = re.compile(r'^process (?P<pid>\d+):"?(?P<cmd>.*?)"?$', re.S)


def process_roots(stack: Stack) -> tuple[tuple[int, str], ...]:
    """(pid, command line) of each leading `process PID:"…"` frame, outermost first: the
    lineage from the process attached to down to the one sampled."""
    out: list[tuple[int, str]] = []
    for frame in stack:
        if frame.file or not frame.function.startswith("process "):
            break
        m = _PROCESS_ROOT.match(frame.function)
        if m is None:
            break
        out.append((int(m.group("pid")), m.group("cmd").strip()))
    return tuple(out)


def process_of(sample: Sample) -> tuple[int, str]:
    """(pid, command line) of the process `sample` was taken in; pid 0 and "" when
    neither the sampler nor the stack says; "" when only the pid is known."""
    roots = process_roots(sample.stack)
    if sample.pid:
        cmd = next((c for p, c in reversed(roots) if p == sample.pid), "")
        return sample.pid, cmd
    return roots[-1] if roots else (0, "")


def process_label(pid: int, cmdline: str) -> str:
    """`pid cmdline` as the process chooser and the exports name a process."""
    if not pid:
        return "unknown process"
    return f"{pid} {cmdline}".rstrip()
