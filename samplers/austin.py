"""AustinSampler (experimental): live sampling from one long-lived `austin -p PID`.

Austin streams one line per thread per sampling tick (`P<pid>;T<iid>:<tid>;frames
<metric>`), so unlike py-spy there are no runs to restart and no hand-over gaps: a
reader thread reads the stream as it comes, parses each line with the Austin reader of
samplers/formats/folded.py, and hands out a SampleBatch every BATCH_SECONDS.

Counting: each line is one sample of one thread (count 1). Austin's metric, the time
since that thread's previous sample, is close to the interval and is not used. As for
py-spy, the busiest thread's lines in a batch are its ticks; with -s (cpu mode) austin
writes lines only for threads on the CPU, so an idle target shows low coverage.
A change of mode, rate or flags restarts austin; the time until the new one is sampling
is counted as a gap and asked for, so coverage stays honest.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import cast

from samplers.austin_run import AustinOptions, AustinRun, classify_failure, find_austin
from samplers.errors import (
    FlametopError,
    NotPythonError,
    SamplerFailedError,
    TargetNotFoundError,
    UsageError,
)
from samplers.formats.folded import austin_sample
from samplers.lifecycle import SamplerLifecycle
from samplers.model import Frame, Health, Sample, SampleBatch, Stack
from samplers.system import find_python_process, looks_like_python, process_alive

BATCH_SECONDS = 1.0  # as fresh as py-spy top's screen
FIRST_BATCH_SECONDS = 0.25  # the first table fills quickly
START_CHECK_SECONDS = 2.5  # austin says "not a Python process" after ~1 s
HANG_SECONDS = 3.0  # an austin that has not ended this long after SIGINT is killed
READ_SLICE = 0.05  # the reader wakes this often: reads what came, cuts batches, sees stop()
MAX_PARSED = 50_000  # distinct stack texts remembered (bounded however long it runs)
AUSTIN_MODES = ("cpu", "wall")


@dataclass
class _Pending:
    """Samples read since the last batch."""

    t_start: float
    counts: dict[tuple[str, Stack], int] = field(default_factory=dict)
    per_thread: dict[tuple[str, str], int] = field(default_factory=dict)


class AustinSampler(SamplerLifecycle):
    """The Sampler protocol over austin. One thread owns the object; a reader thread
    parses austin's stream and hands finished SampleBatch objects over a queue."""

    def __init__(
        self,
        pid: int,
        *,
        batch_seconds: float = BATCH_SECONDS,
        first_batch_seconds: float = FIRST_BATCH_SECONDS,
        **options: object,
    ) -> None:
        super().__init__()
        self.pid = pid
        self.batch_seconds = batch_seconds
        self.first_batch_seconds = min(first_batch_seconds, batch_seconds)
        self._pending_opts = AustinOptions()
        self.configure(**options)
        self._exe = ""
        self._run: AustinRun | None = None
        self._attached_at = 0.0
        self._early: list[str] = []  # lines read while start() waited for the attach
        self._frames: dict[tuple[str, str, int], Frame] = {}
        self._parsed: dict[str, tuple[str, str, Stack]] = {}  # by line text, per run
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cpu_done = 0.0  # CPU of austin processes that have ended

    # -- the Sampler protocol -------------------------------------------------------
    @property
    def health(self) -> Health:
        return self._health(self._pending_opts.rate)

    def configure(self, **options: object) -> None:
        """mode= (cpu or wall), rate=, threads=, subprocesses=, nonblocking= (austin never
        pauses the target); a change restarts austin."""
        changes: dict[str, object] = {}
        for key, value in options.items():
            if key == "mode":
                if value not in AUSTIN_MODES:
                    raise FlametopError(
                        f"austin has no {value!r} mode: use cpu or wall (gil needs --sampler py-spy)"
                    )
                changes[key] = value
            elif key == "rate":
                rate = float(cast(float, value))
                if not rate > 0:
                    raise FlametopError(f"rate must be above 0, not {value!r}")
                changes[key] = rate
            elif key == "native":
                if value:
                    raise UsageError("austin cannot show native frames: use --sampler py-spy")
            elif key in ("threads", "subprocesses", "nonblocking"):
                changes[key] = bool(value) if key != "nonblocking" else True
            else:
                raise FlametopError(f"unknown sampler option {key!r}")
        self._pending_opts = replace(self._pending_opts, **changes)  # type: ignore[arg-type]

    def start(self) -> None:
        """Check the target, start austin, and raise the classified error if it rejects
        the target (bad pid, no permission, not Python)."""
        self._exe = find_austin()
        if not process_alive(self.pid):
            raise TargetNotFoundError(
                f"no process with pid {self.pid}: check the pid with `ps` (it may have exited)"
            )
        if not looks_like_python(self.pid):
            python = find_python_process(self.pid, timeout=0.0)
            if python != self.pid:
                raise NotPythonError(
                    f"pid {self.pid} is not a Python process, but its child {python} is: "
                    f"use --pid {python}"
                )
        self._run = self._attach()
        with self._lock:
            self._state = "running"
        self._thread = threading.Thread(target=self._loop, name="flametop-austin", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End austin and keep what it sampled: the last batch is still delivered."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2 * HANG_SECONDS + 2.0)

    # -- austin processes -----------------------------------------------------------
    def _attach(self) -> AustinRun:
        """Start austin; return once it has attached (its `# python:` header or a
        sample), raising the classified error when it exits first."""
        run = AustinRun(self._exe, self.pid, self._pending_opts)
        self._parsed.clear()  # threads= / subprocesses= change how a text reads
        deadline = time.monotonic() + START_CHECK_SECONDS
        self._early = []
        while time.monotonic() < deadline:
            lines = run.read_lines(READ_SLICE)
            if lines is None:
                stderr = run.finish(HANG_SECONDS)
                self._add_cpu(run)
                raise classify_failure(self.pid, stderr)
            self._early.extend(lines)
            if any(ln.startswith(("# python:", "P")) for ln in lines):
                break
        self._attached_at = time.time()
        return run

    def _add_cpu(self, run: AustinRun) -> None:
        with self._lock:
            self._cpu_done += run.cpu_seconds
            self._own_cpu = self._cpu_done

    # -- the reader thread ----------------------------------------------------------
    def _loop(self) -> None:
        try:
            self._stream()
        except Exception as exc:  # a bug here must not leave poll() waiting forever
            if self._run is not None:
                self._run.kill()
            self._finish("failed", SamplerFailedError(f"austin reader failed: {exc!r}"))

    def _stream(self) -> None:
        run = self._run
        assert run is not None
        pending = _Pending(self._attached_at)
        self._take(run, self._early, pending)
        due = pending.t_start + self.first_batch_seconds
        while True:
            # Read every READ_SLICE rather than on every line: a tenth of the wake-ups.
            self._stop.wait(max(0.0, min(READ_SLICE, due - time.time())))
            lines = run.read_lines(0.0)
            now = time.time()
            if lines is not None:
                self._take(run, lines, pending)
            restart = self._pending_opts != run.opts
            if lines is not None and not self._stop.is_set() and not restart:
                if now >= due:
                    self._deliver(run, pending, now)
                    pending = _Pending(now)
                    due = now + self.batch_seconds
                continue
            # austin ended by itself, or must end: keep what it wrote until it exits.
            ended_itself = lines is None
            t_end = now if ended_itself else run.interrupt()
            deadline = time.monotonic() + HANG_SECONDS
            while lines is not None and time.monotonic() < deadline:
                lines = run.read_lines(READ_SLICE)
                self._take(run, lines or [], pending)
            stderr = run.finish(HANG_SECONDS)
            self._add_cpu(run)
            self._deliver(run, pending, t_end)
            if self._stop.is_set():
                self._finish("stopped")
                return
            if not process_alive(self.pid):
                self._finish("target-exited")
                return
            if ended_itself:
                error = classify_failure(self.pid, stderr)
                self._finish("failed", SamplerFailedError(f"austin stopped: {error.message}"))
                return
            try:  # new options: a fresh austin; the time it takes to attach is a gap
                run = self._run = self._attach()
            except FlametopError as exc:
                self._finish("failed", exc)
                return
            with self._lock:
                self._restarts += 1
                gap = max(0.0, self._attached_at - t_end)
                self._gap_total += gap
                self._last_gap = gap
                self._expected += gap * run.opts.rate
                self._t_last = self._attached_at
            pending = _Pending(self._attached_at)
            self._take(run, self._early, pending)
            due = pending.t_start + self.batch_seconds

    def _take(self, run: AustinRun, lines: list[str], pending: _Pending) -> None:
        """Fold austin's lines into the batch being built."""
        opts = run.opts
        for line in lines:
            if not line.startswith("P"):
                continue  # `# ` header and statistics, blank lines
            # The same stack comes back tick after tick: parse each distinct text once.
            text = line[: line.rfind(" ")]
            known = self._parsed.get(text)
            if known is None:
                parsed = austin_sample(line, self._frames)
                if parsed is None:
                    continue
                pid, thread_id, stack, _metric = parsed
                iid, _, tid = thread_id.partition(":")
                thread = tid if iid == "0" and tid else thread_id
                if stack and opts.threads:
                    stack = (self._frame(f"thread ({thread})"), *stack)
                if stack and opts.subprocesses:
                    stack = (self._frame(f"process {pid}"), *stack)
                if len(self._parsed) >= MAX_PARSED:
                    self._parsed.clear()
                known = self._parsed[text] = (pid, thread, stack)
            pid, thread, stack = known
            key = (pid, thread)
            pending.per_thread[key] = pending.per_thread.get(key, 0) + 1
            if stack:  # a thread without Python code is a tick, but no stack to show
                pending.counts[(thread, stack)] = pending.counts.get((thread, stack), 0) + 1

    def _frame(self, name: str) -> Frame:
        key = (name, "", 0)
        frame = self._frames.get(key)
        if frame is None:
            frame = self._frames[key] = Frame(name)
        return frame

    def _deliver(self, run: AustinRun, pending: _Pending, t_end: float) -> None:
        rate = run.opts.rate
        ticks = max(pending.per_thread.values(), default=0)
        # never claim more ticks than the batch's time allows at the asked rate
        ticks = min(ticks, round((t_end - pending.t_start) * rate) + 1)
        batch = SampleBatch(
            t_start=pending.t_start,
            t_end=max(t_end, pending.t_start),
            samples=tuple(Sample(t, st, c) for (t, st), c in pending.counts.items()),
            mode=run.opts.mode,
            rate=rate,
        )
        cpu = run.cpu_now()
        with self._lock:
            if self._t0 is None:
                self._t0 = self._t_last = pending.t_start
            self._expected += max(0.0, batch.t_end - self._t_last) * rate
            self._t_last = max(self._t_last, batch.t_end)
            self._ticks += ticks
            self._chunks += 1
            self._own_cpu = self._cpu_done + (cpu if run.returncode is None else 0.0)
        self._queue.put(batch)
        if self.on_news is not None:
            self.on_news()
