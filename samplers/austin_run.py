"""What flametop knows about the austin executable: where it is, the flags it runs with,
one long-lived austin process whose stdout is read line by line, and how its error text
becomes a FlametopError that names the fix."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import tempfile
import termios
import threading
import time
import tty
from dataclasses import dataclass

import psutil

from samplers.errors import (
    FlametopError,
    NotPythonError,
    SamplerFailedError,
    TargetNotFoundError,
)
from samplers.model import Mode
from samplers.permissions import permission_error
from samplers.system import find_tool, process_alive

AUSTIN_ENV = "FLAMETOP_AUSTIN"
INSTALL_HINT = "pip install 'austin-dist>=3.7,<4'"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_WORDS = re.compile(r"[A-Za-z]{3,} [A-Za-z]{2,}")  # a sentence, not the ASCII-art banner
READ_MAX = 1 << 20  # bytes taken in one read_lines call
_LEAD = re.compile(r"^[^\w<]+")  # emoji and marks before the message


def find_austin() -> str:
    """The austin to run: $FLAMETOP_AUSTIN, else PATH, else next to this interpreter."""
    return find_tool(
        "austin",
        AUSTIN_ENV,
        f"austin is not installed: run `{INSTALL_HINT}` in flametop's environment "
        f"(or set {AUSTIN_ENV}=/path/to/austin), or use --sampler py-spy",
    )


def austin_version(exe: str) -> str:
    """'austin 3.7.0', or 'austin' when the version cannot be read."""
    try:
        out = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            [exe, "--version"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "austin"
    return out if out.startswith("austin") else "austin"


@dataclass(frozen=True, slots=True)
class AustinOptions:
    mode: Mode = "cpu"
    rate: float = 100.0
    threads: bool = False  # a root frame per thread (austin always names the thread)
    subprocesses: bool = False
    nonblocking: bool = True  # austin never pauses the target: accepted, always so

    def args(self) -> list[str]:
        # -P (pipe mode): the header and the closing statistics go to stdout as `# `
        # lines, so stderr holds only what went wrong.
        out = ["-P", "-i", str(max(1, round(1e6 / self.rate)))]
        if self.mode == "cpu":
            out.append("-s")  # sleepless: only threads on the CPU are sampled
        if self.subprocesses:
            out.append("-C")
        return out


class AustinRun:
    """One `austin -p PID` process. Its stdout is a pseudo-terminal so austin's stdio
    flushes every line (into a pipe it writes 4 KiB blocks, a quarter of a second of
    samples or, on an idle target, many seconds); the terminal is raw, so lines arrive
    as written."""

    def __init__(self, exe: str, pid: int, opts: AustinOptions) -> None:
        self.opts = opts
        self.spawned = time.time()
        self.returncode: int | None = None
        self.cpu_seconds = 0.0
        self._partial = b""
        self._eof = False
        self._lock = threading.Lock()
        self._stderr = tempfile.TemporaryFile()  # closed in finish()
        master, slave = os.openpty()
        try:
            tty.setraw(slave, termios.TCSANOW)
            argv = [exe, *opts.args(), "-p", str(pid)]
            # Own session: a terminal's Ctrl-C must not end austin behind our back.
            self.proc = subprocess.Popen(  # noqa: S603 - argument list, no shell
                argv,
                stdin=subprocess.DEVNULL,
                stdout=slave,
                stderr=self._stderr,
                start_new_session=True,
            )
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self._master = master

    def read_lines(self, timeout: float) -> list[str] | None:
        """Whole lines that arrived within `timeout` s; None once austin's output ended."""
        if self._eof:
            return None
        chunks: list[bytes] = []
        wait = max(0.0, timeout)
        # Drain all that is there (austin must never block on a full terminal buffer).
        while sum(map(len, chunks)) < READ_MAX and select.select([self._master], [], [], wait)[0]:
            wait = 0.0
            try:
                data = os.read(self._master, 1 << 16)
            except OSError:  # EIO: the other end closed, austin is gone
                data = b""
            if not data:
                self._eof = True
                break
            chunks.append(data)
        if not chunks and not self._eof:
            return []
        data = b"".join(chunks)
        if self._eof:  # the last lines now; None on the next call
            data, self._partial = self._partial + data, b""
            return [line.decode("utf-8", "replace") for line in data.split(b"\n") if line]
        *whole, self._partial = (self._partial + data).split(b"\n")
        return [line.decode("utf-8", "replace") for line in whole]

    def cpu_now(self) -> float:
        """CPU seconds austin has used so far (exact once it has been reaped)."""
        with self._lock:
            if self.returncode is not None:
                return self.cpu_seconds
            try:
                times = psutil.Process(self.proc.pid).cpu_times()
            except psutil.Error:
                return self.cpu_seconds
            return float(times.user + times.system)

    def _signal(self, sig: int) -> None:
        with self._lock:  # never signal a pid that was reaped (and may be reused)
            if self.returncode is None:
                try:
                    os.kill(self.proc.pid, sig)
                except ProcessLookupError:
                    pass

    def interrupt(self) -> float:
        self._signal(signal.SIGINT)
        return time.time()

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def finish(self, hang_seconds: float) -> str:
        """Reap austin (killing it if it hangs), note its CPU; returns its stderr."""
        deadline = time.monotonic() + hang_seconds
        while self.returncode is None:
            try:
                done, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            except ChildProcessError:
                done, status, usage = self.proc.pid, 0, None
            if done:
                with self._lock:
                    self.returncode = os.waitstatus_to_exitcode(status)
                    self.proc.returncode = self.returncode  # Popen must not wait on it
                    if usage is not None:
                        self.cpu_seconds = usage.ru_utime + usage.ru_stime
                break
            if time.monotonic() >= deadline:
                self.kill()
                deadline = time.monotonic() + hang_seconds
            time.sleep(0.01)
        if self._master >= 0:
            os.close(self._master)
            self._master = -1
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", "replace")
        self._stderr.close()
        return _ANSI.sub("", text)


def classify_failure(pid: int, stderr: str) -> FlametopError:
    """Turn austin's error text into the error class a user can act on."""
    low = stderr.lower()
    if "permission" in low or "privileges" in low:
        return permission_error(pid)
    if "not a python" in low or "cannot determine the version" in low:
        return NotPythonError(
            f"pid {pid} is not a Python process austin can read: give the pid of the "
            "python interpreter itself (not a shell or wrapper), or use --sampler py-spy"
        )
    if "cannot attach" in low or "no such process" in low:
        if not process_alive(pid):
            return TargetNotFoundError(
                f"no process with pid {pid}: check the pid with `ps` (it may have exited)"
            )
        return permission_error(pid)
    return SamplerFailedError(f"austin failed on pid {pid}: {first_error_line(stderr)}")


def first_error_line(text: str) -> str:
    """The first sentence-like line of austin's message, without its banner and emoji."""
    for line in text.splitlines():
        if _WORDS.search(line):
            return _LEAD.sub("", line).strip()
    return "no error message"
