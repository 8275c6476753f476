"""psutil readings of the target and of flametop itself (the profiler publishes its own
overhead), and finding the Python process behind a command flametop started."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import psutil

from samplers.errors import NotPythonError, SamplerMissingError, TargetNotFoundError
from samplers.model import ProcessReading, SystemReading


def process_alive(pid: int) -> bool:
    """True while `pid` runs; a zombie (exited, not yet reaped) counts as gone."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, ValueError):
        return False
    except psutil.AccessDenied:
        return True  # someone else's process, but it exists


def process_started_at(pid: int) -> float | None:
    """When `pid` started (tells a process from a later one given the same pid)."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, ValueError):
        return None


def _tree_pids(pid: int) -> set[int]:
    try:
        proc = psutil.Process(pid)
        return {pid} | {c.pid for c in proc.children(recursive=True)}
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return {pid}


def self_cpu_seconds(exclude_pid: int | None = None) -> float:
    """CPU seconds used by flametop: this process, its reaped children (finished py-spy
    runs) and its live children, leaving out the target's tree when flametop started it."""
    times = os.times()
    total = times.user + times.system + times.children_user + times.children_system
    children = _children_of("self")
    if children is not None:
        # flametop's children (py-spy runs, a started target) start nothing themselves
        # that we count, so the direct ones suffice: read from /proc in well under a
        # millisecond, where psutil's recursive walk reads every process's stat twice
        # (~4 ms a reading on a busy box, every second).
        for pid in children:
            if pid != exclude_pid:
                total += _proc_cpu_seconds(pid)
        return total
    excluded = _tree_pids(exclude_pid) if exclude_pid is not None else set()
    try:
        descendants = psutil.Process().children(recursive=True)
    except psutil.Error:
        descendants = []
    for child in descendants:
        if child.pid in excluded:
            continue
        try:
            ct = child.cpu_times()
            total += ct.user + ct.system
        except psutil.Error:
            continue  # exited between listing and reading: counted once reaped
    return total


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MAX_TREE = 256  # processes read per reading at most (a fork bomb must not stall the rails)


def _children_of(pid: int | str) -> list[int] | None:
    """Live children of `pid` ("self": flametop) from /proc/PID/task/*/children (every
    thread may fork); [] once it is gone; None where the kernel offers no such file."""
    pids: list[int] = []
    read_any = False
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return [] if os.path.isdir("/proc/self/task") else None  # gone, or no /proc
    except OSError:
        return None
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as f:
                pids += [int(p) for p in f.read().split()]
            read_any = True
        except (OSError, ValueError):
            continue  # the thread ended while listed (or the kernel has no such file)
    return pids if read_any else None


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid`, parents before children, at most MAX_TREE: read
    from /proc in a fraction of psutil's recursive walk (which reads every process)."""
    out: list[int] = []
    todo = [pid]
    while todo and len(out) < MAX_TREE:
        kids = _children_of(todo.pop(0))
        if kids is None:  # no children files: ask psutil once for the whole tree
            try:
                return [c.pid for c in psutil.Process(pid).children(recursive=True)][:MAX_TREE]
            except psutil.Error:
                return out
        out += kids
        todo += kids
    return out[:MAX_TREE]


def _stat_figures(pid: int) -> tuple[float, int, int] | None:
    """(CPU seconds, RSS bytes, threads) of a live process from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS
        return cpu, int(fields[21]) * _PAGE_SIZE, int(fields[17])
    except (OSError, IndexError, ValueError):
        return None


def _proc_cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (0 once it is gone: then counted as reaped)."""
    figures = _stat_figures(pid)
    return figures[0] if figures is not None else 0.0


def looks_like_python(pid: int) -> bool:
    """Python if its executable is named python* or it maps a libpython (embedded)."""
    try:
        exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    except OSError:
        return False
    if exe.startswith("python") or exe.startswith("pypy"):
        return True
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
            return any("libpython" in line for line in maps)
    except OSError:
        return False


def _own_tree() -> set[int]:
    """flametop's own pid and its descendants."""
    me = psutil.Process()
    try:
        return {me.pid, *(c.pid for c in me.children(recursive=True))}
    except psutil.Error:
        return {me.pid}


def find_python_process(pid: int, timeout: float = 3.0) -> int:
    """The Python process a started command became: itself, or (through a pyenv shim or
    a shell wrapper) its first Python descendant. Falls back to `pid` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        if looks_like_python(pid):
            return pid
        try:
            children = psutil.Process(pid).children(recursive=True)
        except psutil.Error:
            return pid
        ours = _own_tree()
        if pid in ours:  # a command flametop started: its descendants are what we want
            ours = {os.getpid()}
        for child in sorted(children, key=lambda c: c.pid):
            # flametop under the shell it was typed in is never the Python meant
            if child.pid not in ours and looks_like_python(child.pid):
                return child.pid
        if time.monotonic() >= deadline or not process_alive(pid):
            return pid
        time.sleep(0.02)


class SystemMonitor:
    """Reads the target's CPU %, RSS, threads, I/O and context-switch rates, and
    flametop's own CPU %. Rates come from the change since the previous read(); the
    first read() has no rates. A vanished target gives a reading of Nones."""

    def __init__(self, pid: int, exclude_from_self: int | None = None) -> None:
        self.pid = pid
        # The target's tree is never flametop's own cost, even when flametop started it
        # (then `exclude_from_self` is the started command, e.g. a shim above Python).
        self._exclude = exclude_from_self if exclude_from_self is not None else pid
        self._proc: psutil.Process | None
        try:
            self._proc = psutil.Process(pid)
        except psutil.Error:
            self._proc = None
        self._last_t: float | None = None
        self._last_cpu: float | None = None
        self._last_io: int | None = None
        self._last_ctx: int | None = None
        self._last_self: float | None = None
        self._last_tree: dict[int, float] = {}  # CPU seconds of each descendant

    def _target_counters(self) -> tuple[float, int, int, int | None, int]:
        assert self._proc is not None
        with self._proc.oneshot():
            ct = self._proc.cpu_times()
            cpu = ct.user + ct.system
            rss = self._proc.memory_info().rss
            nthreads = self._proc.num_threads()
            io: int | None
            try:
                ioc = self._proc.io_counters()
                io = ioc.read_bytes + ioc.write_bytes
            except (psutil.AccessDenied, AttributeError, NotImplementedError):
                io = None
            ctx = self._proc.num_ctx_switches()
        return cpu, rss, nthreads, io, ctx.voluntary + ctx.involuntary

    def read(self) -> SystemReading:
        now = time.monotonic()
        wall = time.time()
        dt = None if self._last_t is None else max(1e-6, now - self._last_t)
        own = self_cpu_seconds(self._exclude)
        self_pct = None
        if dt is not None and self._last_self is not None:
            self_pct = 100.0 * (own - self._last_self) / dt
        self._last_self = own
        self._last_t = now
        if self._proc is None:
            return SystemReading(t=wall, self_cpu_percent=self_pct)
        try:
            cpu, rss, nthreads, io, ctx = self._target_counters()
        except (psutil.Error, OSError):
            self._proc = None  # target gone: later readings carry only our own CPU
            return SystemReading(t=wall, self_cpu_percent=self_pct)
        cpu_pct = io_rate = ctx_rate = None
        if dt is not None:
            if self._last_cpu is not None:
                cpu_pct = 100.0 * max(0.0, cpu - self._last_cpu) / dt
            if io is not None and self._last_io is not None:
                io_rate = max(0, io - self._last_io) / dt
            if self._last_ctx is not None:
                ctx_rate = max(0, ctx - self._last_ctx) / dt
        self._last_cpu, self._last_io, self._last_ctx = cpu, io, ctx
        target = ProcessReading(self.pid, cpu_pct, rss, nthreads)
        return SystemReading(
            t=wall,
            cpu_percent=cpu_pct,
            rss_bytes=rss,
            threads=nthreads,
            io_bytes_per_s=io_rate,
            ctx_switches_per_s=ctx_rate,
            self_cpu_percent=self_pct,
            processes=(target, *self._read_descendants(dt)),
        )

    def _read_descendants(self, dt: float | None) -> list[ProcessReading]:
        """Each descendant of the target: the rails of --subprocesses, and the CPU that
        tells "children are busy" without it. A process first seen has no CPU % yet."""
        seen: dict[int, float] = {}
        out: list[ProcessReading] = []
        for pid in descendants(self.pid):
            figures = _stat_figures(pid)
            if figures is None:
                continue  # exited since it was listed
            cpu, rss, nthreads = figures
            before = self._last_tree.get(pid)
            pct = None
            if dt is not None and before is not None:
                pct = 100.0 * max(0.0, cpu - before) / dt
            seen[pid] = cpu
            out.append(ProcessReading(pid, pct, rss, nthreads))
        self._last_tree = seen
        return out


def cmdline_of(pid: int) -> tuple[str, ...]:
    try:
        return tuple(psutil.Process(pid).cmdline())
    except psutil.Error:
        return ()


def cwd_of(pid: int) -> Path | None:
    try:
        return Path(psutil.Process(pid).cwd())
    except (psutil.Error, OSError):
        return None


def find_tool(name: str, env_var: str, missing: str) -> str:
    """A sampler executable: $env_var, else PATH, else next to this interpreter (a venv
    whose bin is not on PATH). `missing` is the message when none is found."""
    override = os.environ.get(env_var)
    if override:
        if os.path.isfile(override) and os.access(override, os.X_OK):
            return override
        raise SamplerMissingError(
            f"{name} not found at {env_var}={override}: point it at a {name} executable or unset it"
        )
    found = shutil.which(name)
    if found:
        return found
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    raise SamplerMissingError(missing)


def check_target(pid: int) -> bool:
    """Before attaching: TargetNotFoundError for a missing pid, NotPythonError naming
    the Python child of a shell or launcher (py-spy would retry for seconds and then fail
    vaguely, while the fix is known now). True when `pid` itself looks like Python."""
    if not process_alive(pid):
        raise TargetNotFoundError(
            f"no process with pid {pid}: check the pid with `ps` (it may have exited)"
        )
    if looks_like_python(pid):
        return True
    python = find_python_process(pid, timeout=0.0)
    if python != pid:
        raise NotPythonError(
            f"pid {pid} is not a Python process, but its child {python} is: use --pid {python}"
        )
    return False
