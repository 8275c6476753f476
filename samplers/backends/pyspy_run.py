"""One `py-spy record` process (a chunk of live sampling) and the options it runs with."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from samplers.model import Mode, Sample, SamplingOptions


def pyspy_args(opts: SamplingOptions) -> list[str]:
    """`py-spy record`'s options for `opts`."""
    out = ["--rate", str(max(1, round(opts.rate)))]
    out += {"cpu": [], "wall": ["--idle"], "gil": ["--gil"]}[opts.mode]
    # --threads is always on: the thread root names Sample.thread; the frame is kept
    # in the stack only when the user asked for it.
    out.append("--threads")
    out += [f"--{flag}" for flag in opts.flags if flag != "threads"]
    if opts.mode == "cpu" and not opts.nonblocking:
        # py-spy's idle test misreads the threads it has just stopped as running: on 50
        # idle threads + 1 busy, blocking py-spy gave the busy function 37 % of cpu-mode
        # samples (6 % through back-to-back chunks, each attach a fresh burst) and
        # nonblocking 100 %. cpu mode keeps only running threads, so the CLI backend
        # reads without stopping the target there.
        out.append("--nonblocking")
    return out


def estimate_ticks(samples: tuple[Sample, ...], mode: Mode) -> int:
    """How many sampling ticks a run took. py-spy counts traces, not ticks: with
    --threads each thread sampled in a tick adds one, so the busiest thread's count is the
    tick count (exact in wall mode, the on-CPU ticks in cpu mode); in gil mode one thread
    holds the GIL per tick, so the counts add up."""
    if mode == "gil":
        return sum(s.count for s in samples)
    per_thread: dict[tuple[tuple[str, ...], str], int] = {}
    for s in samples:
        procs = tuple(f.function for f in s.stack if f.function.startswith("process "))
        key = (procs, s.thread)
        per_thread[key] = per_thread.get(key, 0) + s.count
    return max(per_thread.values(), default=0)


class PySpyRun:
    """One `py-spy record` process: a chunk. A waiter thread reaps it with wait4 so its
    exact CPU time is known (the profiler publishes its own cost)."""

    def __init__(self, exe: str, pid: int, opts: SamplingOptions, workdir: Path, n: int) -> None:
        self.opts = opts
        self.out = workdir / f"chunk-{n}.txt"
        self._stdout_path = workdir / f"chunk-{n}.stdout"
        self._stderr_path = workdir / f"chunk-{n}.stderr"
        argv = [exe, "record", "--pid", str(pid), "--format", "raw", "-o", str(self.out)]
        argv += pyspy_args(opts)
        self.spawned = time.time()
        self.stop_sent: float | None = None
        self.ended: float | None = None
        self.returncode: int | None = None
        self.cpu_seconds = 0.0
        self.started: float | None = None  # when it was first seen sampling
        # The last check that saw it not yet sampling: its first sample came after this.
        self.not_started_at = self.spawned
        self.done = threading.Event()
        self._lock = threading.Lock()
        with open(self._stdout_path, "wb") as so, open(self._stderr_path, "wb") as se:
            # Own session: a terminal's Ctrl-C must not end runs behind our back.
            self.proc = subprocess.Popen(  # noqa: S603 - argument list, no shell
                argv, stdin=subprocess.DEVNULL, stdout=so, stderr=se, start_new_session=True
            )
        threading.Thread(target=self._reap, name="flametop-pyspy-reap", daemon=True).start()

    def _reap(self) -> None:
        try:
            _, status, usage = os.wait4(self.proc.pid, 0)
            code = os.waitstatus_to_exitcode(status)
            cpu = usage.ru_utime + usage.ru_stime
        except ChildProcessError:
            code, cpu = -1, 0.0
        with self._lock:
            self.returncode = code
            self.proc.returncode = code  # so Popen never waits on a reaped pid
            self.cpu_seconds = cpu
            self.ended = time.time()
        self.done.set()

    def _signal(self, sig: int) -> None:
        with self._lock:  # never signal a pid that was reaped (and may be reused)
            if self.returncode is None:
                try:
                    os.kill(self.proc.pid, sig)
                except ProcessLookupError:
                    pass

    def sampling_started(self) -> bool:
        """Has py-spy begun sampling? Its main thread blocks on a channel while the
        sampler thread attaches, then wakes once per sample: its second voluntary
        context switch marks the first sample (within a few ms; checked here against
        sample counts). Unknown (False) where /proc cannot tell."""
        if self.started is not None:
            return True
        checked = time.time()
        try:
            with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("voluntary_ctxt_switches:"):
                        if int(line.split()[1]) >= 2:
                            self.started = time.time()
                            return True
                        break
        except (OSError, ValueError):
            pass
        self.not_started_at = checked
        return False

    def interrupt(self) -> float:
        self.stop_sent = time.time()
        self._signal(signal.SIGINT)
        return self.stop_sent

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def text(self) -> tuple[str, str, str]:
        """(raw output, stdout, stderr); empty strings for what was not written."""
        parts = []
        for path in (self.out, self._stdout_path, self._stderr_path):
            try:
                parts.append(path.read_text(encoding="utf-8", errors="replace"))
                path.unlink()
            except OSError:
                parts.append("")
        return parts[0], parts[1], parts[2]
