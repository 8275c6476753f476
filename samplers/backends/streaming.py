"""StreamingSampler: py-spy as a library inside flametop (native/, `flametop_native`).

py-spy's `PythonSpy` runs on a Rust thread of this process and reads every thread of
the target, idle ones included, at one random instant inside each 1/rate slot. What
crosses to Python every BATCH_SECONDS is counts per (pid, thread, stack, active, gil)
with frames and stacks interned on the Rust side: no child process, no text to parse.
Batches are `complete`, so cpu, wall and gil are views of them (samplers/tree/modes.py)
and a mode change needs no restart. Rate, native frames, subprocesses and blocking do:
the sampler is re-attached (counted as a restart).

With --subprocesses each process is sampled on a Rust thread of its own, at instants of
its own, so samples, coverage and the achieved rate count per-process instants: with a
master and four workers, a second at 100 Hz asks for 500, and a busy worker that falls
behind shows as lost coverage instead of hiding behind an idle master that keeps up.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import psutil

from samplers.backends.lifecycle import RECENT_SECONDS, SamplerLifecycle
from samplers.backends.pyspy_tool import classify_failure
from samplers.errors import (
    FlametopError,
    SamplerFailedError,
    TargetNotFoundError,
    UsageError,
)
from samplers.model import Frame, Health, Mode, Sample, SampleBatch, SamplingOptions, Stack
from samplers.target.system import check_target, process_alive

try:  # built from native/ by `make`; absent where no Rust toolchain was found
    import flametop_native as _native
except ImportError:  # pragma: no cover - exercised by the fallback test in a subprocess
    _native = None  # type: ignore[assignment]

STOP_WAIT_SECONDS = 3.0  # how long stop() waits for the Rust threads
BATCH_SECONDS = 0.2  # how often counts cross to Python: the table refreshes at 5 Hz
FIRST_BATCH_SECONDS = 0.05  # the first goes sooner: a table within a moment of attaching
ATTACH_SECONDS = 1.0  # a process started a moment ago may need this long to load Python
BACKOFF = (0.1, 0.25, 0.5, 1.0, 2.0)  # re-attach after the sampling thread failed
# Unreadable instants are counted always and, when the target is paused for each read
# (so a failure means something), told at most this often.
READ_ERROR_EVERY_S = 30.0


def available() -> bool:
    """True when the native extension is installed (built from native/)."""
    return _native is not None


def has_unwind() -> bool:
    """True when the extension was built with libunwind, so --native works in-process."""
    return _native is not None and bool(_native.HAS_UNWIND)


def backend_version() -> str:
    version = _native.PY_SPY_VERSION if _native is not None else "?"
    return f"py-spy {version} in-process"


def _attach_key(options: SamplingOptions) -> tuple[float, bool, bool, bool]:
    """What the sampler is attached with: a change needs a re-attach."""
    return (options.rate, options.native, options.subprocesses, options.nonblocking)


class StreamingSampler(SamplerLifecycle):
    """The Sampler protocol over flametop_native.NativeSampler."""

    label = "in-process"
    modes_are_views = True  # a mode switch applies at once, to the past too

    def __init__(
        self,
        pid: int,
        options: SamplingOptions | None = None,
        *,
        batch_seconds: float = BATCH_SECONDS,
        backoff: tuple[float, ...] = BACKOFF,
    ) -> None:
        super().__init__()
        if _native is None:
            raise UsageError("the native sampler is not built: run `make` (needs cargo)")
        self.pid = pid
        self.batch_seconds = batch_seconds
        self.backoff = backoff
        self._opts = SamplingOptions()
        self._native: _native.NativeSampler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.python_version = ""
        # interned tables mirroring the Rust side's (ids are positions)
        self._frames: list[Frame] = []
        self._stacks: list[tuple[int, ...]] = []
        self._names: dict[tuple[int, int], str] = {}
        self._built: dict[tuple[int, int, int], tuple[str, Stack]] = {}
        self._read_error_quiet_until = 0.0  # monotonic time the next read error is told
        # (t_start, t_end, instants summed over processes, GIL-held samples, active
        # samples, processes asked of) of recent batches
        self._recent: deque[tuple[float, float, int, int, int, int]] = deque()
        self._late_total = 0
        self._errors_total = 0
        self._samples_total = 0
        self._expected_total = 0.0
        self.configure(options or SamplingOptions())
        self._needs_restart = False

    # -- the Sampler protocol -------------------------------------------------------
    @property
    def health(self) -> Health:
        with self._lock:
            recent = list(self._recent)
            state, errors = self._state, tuple(self._errors)
            restarts = self._restarts
        rate = self._opts.rate
        expected = sum((t1 - t0) * rate * procs for t0, t1, *_, procs in recent)
        ticks = sum(r[2] for r in recent)
        instants = sum(r[2] / r[5] for r in recent)  # of the process tree as a whole
        gil = sum(r[3] for r in recent)
        active = sum(r[4] for r in recent)
        return Health(
            rate=rate,
            achieved_rate=rate * ticks / expected if expected > 0 else 0.0,  # per process
            coverage=ticks / expected if expected > 0 else 0.0,
            samples=self._samples_total,
            expected=self._expected_total,
            restarts=restarts,
            errors=errors,
            state=state,
            late=self._late_total,
            sampling_errors=self._errors_total,
            backend=backend_version(),
            gil_held=min(1.0, gil / ticks) if ticks else None,  # each process has its own
            active_threads=active / instants if instants else None,
        )

    @property
    def options(self) -> SamplingOptions:
        return self._opts

    def configure(self, options: SamplingOptions) -> None:
        """The mode at once (batches hold every mode); rate, native, subprocesses and
        nonblocking re-attach; threads changes the roots of later batches."""
        self.check_supported(options)
        if options.native and not has_unwind():
            raise UsageError("this build has no native unwinding: --native uses the py-spy CLI")
        old, new = self._opts, options
        if _attach_key(new) != _attach_key(old):
            self._needs_restart = True
        if (new.threads, new.subprocesses) != (old.threads, old.subprocesses):
            self._built.clear()  # the roots of later stacks change
        self._opts = new

    @property
    def mode(self) -> Mode:
        return self._opts.mode

    def start(self) -> None:
        check_target(self.pid)
        self._native = self._attach()
        self._needs_restart = False
        with self._lock:
            self._state = "running"
        self._thread = threading.Thread(target=self._loop, name="flametop-stream", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
        native = self._native
        if native is not None and not native.stop(STOP_WAIT_SECONDS):
            # a sampling thread stuck in py-spy's ptrace lock on the target: never hang
            # the screen's exit on it (it ends with the target or with flametop)
            with self._lock:
                self._errors.append("the sampling thread did not stop in time: left behind")

    # -- inside -----------------------------------------------------------------------
    def _attach(self) -> _native.NativeSampler:
        assert _native is not None
        o = self._opts
        try:
            sampler = _native.NativeSampler(
                self.pid,
                o.rate,
                nonblocking=o.nonblocking,
                native=o.native,
                subprocesses=o.subprocesses,
                attach_timeout=ATTACH_SECONDS,
            )
        except _native.AttachError as exc:
            if not process_alive(self.pid):
                raise TargetNotFoundError(
                    f"no process with pid {self.pid}: check the pid with `ps` (it may have exited)"
                ) from None
            raise classify_failure(self.pid, str(exc)) from None
        self.python_version = sampler.python_version
        # tables restart with the new Rust sampler
        self._frames, self._stacks, self._names, self._built = [], [], {}, {}
        return sampler

    def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                if self._needs_restart:
                    self._restart()
                ended = self._drain_once()
            except FlametopError as exc:
                self._finish("failed", exc)
                return
            except Exception as exc:  # a bug here must not leave poll() waiting forever
                self._finish("failed", SamplerFailedError(f"sampler thread failed: {exc!r}"))
                return
            if ended is None:
                failures = 0
                continue
            if ended == "exited":
                self._finish("target-exited")
                return
            # the Rust thread failed (a panic, caught): report, back off, re-attach
            self._note_error(ended)
            if failures >= len(self.backoff) or not process_alive(self.pid):
                self._finish("failed", SamplerFailedError(f"sampling stopped: {ended}"))
                return
            self._stop.wait(self.backoff[failures])
            failures += 1
            self._needs_restart = True

    def _restart(self) -> None:
        old = self._native
        if old is not None:
            old.stop()
        self._native = self._attach()
        self._needs_restart = False
        with self._lock:
            self._restarts += 1

    def _drain_once(self) -> str | None:
        native = self._native
        assert native is not None
        first = not self._frames  # nothing handed over since the last attach
        batch, ended = native.drain(0.25, FIRST_BATCH_SECONDS if first else self.batch_seconds)
        if batch is not None:
            self._hand_over(batch)
        return ended

    def _hand_over(self, raw: _native.Batch) -> None:
        t0, t1, ticks, late, missed, procs, errors, last_error = raw[:8]
        frames, stacks, threads, counts = raw[8:]
        self._frames.extend(Frame(f, file, line) for f, file, line in frames)
        self._stacks.extend(tuple(s) for s in stacks)
        for pid, tid, name in threads:
            self._names[(pid, tid)] = name
            self._built = {k: v for k, v in self._built.items() if k[:2] != (pid, tid)}
        samples = []
        for pid, tid, sid, active, gil, n in counts:
            if not self._stacks[sid]:
                continue  # a thread with no Python frame yet (starting, or in C only)
            label, stack = self._sample_of(pid, tid, sid)
            samples.append(Sample(label, stack, n, pid, active, gil))
        t_start, t_end = t0, t1
        batch = SampleBatch(
            t_start, t_end, tuple(samples), self._opts.mode, self._opts.rate, complete=True
        )
        n_ticks, n_late, n_errors, n_procs = ticks, late, errors, max(1, procs)
        with self._lock:
            held = sum(s.count for s in samples if s.gil)
            running = sum(s.count for s in samples if s.active)
            self._recent.append((t_start, t_end, n_ticks, held, running, n_procs))
            while self._recent and self._recent[0][1] < t_end - RECENT_SECONDS:
                self._recent.popleft()
            self._late_total += n_late
            self._errors_total += n_errors
            self._samples_total += n_ticks
            self._expected_total += (t_end - t_start) * self._opts.rate * n_procs
            self._ticks = self._samples_total
        # Reading without pausing the target races it: a torn read now and then is the
        # price of never stopping it, counted (record's summary) but not an error to show.
        told = not self._opts.nonblocking and time.monotonic() >= self._read_error_quiet_until
        if last_error and told:
            self._read_error_quiet_until = time.monotonic() + READ_ERROR_EVERY_S
            self._note_error(f"some instants could not be read: {last_error}")
        del missed  # counted through coverage: missed slots are asked for, not taken
        self._queue.put(batch)
        if self.on_news is not None:
            self.on_news()

    def _lineage(self, pid: int) -> list[int]:
        """The processes from the one attached to down to `pid` (py-spy's root chain)."""
        chain = [pid]
        while chain[-1] != self.pid and len(chain) < 64:
            try:
                parent = psutil.Process(chain[-1]).ppid()
            except psutil.Error:
                break
            if parent <= 1:
                break
            chain.append(parent)
        return chain[::-1] if chain[-1] == self.pid else [pid]

    def _sample_of(self, pid: int, tid: int, sid: int) -> tuple[str, Stack]:
        key = (pid, tid, sid)
        built = self._built.get(key)
        if built is None:
            label = self._names.get((pid, tid)) or str(tid)
            stack: Stack = tuple(self._frames[i] for i in self._stacks[sid])
            roots: list[Frame] = []
            if self._opts.subprocesses:
                # as py-spy --subprocesses names a process root
                roots += [Frame(f'process {p}:"{_cmdline(p)}"') for p in self._lineage(pid)]
            if self._opts.threads:
                roots.append(Frame(f"thread ({label})"))
            built = (label, (*roots, *stack))
            self._built[key] = built
        return built


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""
