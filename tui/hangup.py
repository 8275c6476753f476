"""What ends `flametop top` when its terminal goes away (SIGHUP) or it is told to stop
(SIGTERM), at any moment: while starting, with the screen up, or while quitting.

A Python signal handler runs in the main thread between any two bytecodes, also in the
middle of Textual's writer queue, so ours does no work: it records the signal, wakes the
watchdog, and hands the signal on: to the app's event loop while the screen is up, as a
`Hangup` exception while flametop is still starting, and to nobody while it is already
cleaning up. The watchdog makes the exit certain: when flametop is not gone `grace_s`
after the signal, it writes the autosave if none was, stops the started command, and ends
the process. `exit_if_threads_left` does the same for a thread that would keep the
interpreter from exiting after the run is over.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

    from textual.driver import Driver

GRACE_S = 3.0
THREADS_JOIN_S = 1.0
SIGNALS = (signal.SIGHUP, signal.SIGTERM)


class Hangup(BaseException):
    """SIGHUP or SIGTERM while starting; like KeyboardInterrupt, not an `Exception`."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class ExitGuard:
    def __init__(self, grace_s: float = GRACE_S) -> None:
        self.signum: int | None = None  # the first SIGHUP/SIGTERM received
        self.autosave: Callable[[], None] | None = None  # both: run once, from any thread
        self.stop_target: Callable[[], None] | None = None
        self._grace_s = grace_s
        self._interruptible = True
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deliver: Callable[[int], None] | None = None
        self._delivered = False
        self._finished = threading.Event()
        self._previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {}
        self._wake_r, self._wake_w = os.pipe()
        self._watchdog = threading.Thread(target=self._watch, name="flametop-exit", daemon=True)

    # -- main thread ----------------------------------------------------------------------

    def install(self) -> None:
        self._watchdog.start()
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._on_signal)

    def uninstall(self) -> None:
        """The run is over (the started command stopped): signals act as before."""
        self._finished.set()
        for sig, handler in self._previous.items():
            # None: the handler was not set from Python; the default is the nearest
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)

    def no_more_interrupts(self) -> None:
        """From here on a signal is only recorded (the screen takes it, or the cleanup
        that follows must run to its end)."""
        self._interruptible = False

    def attach(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[int], None]) -> None:
        """The screen is up: `deliver(signum)` runs in its event loop from now on."""
        self._loop, self._deliver = loop, deliver
        if self.signum is not None and not self._delivered:  # came while it was starting
            self._delivered = True
            loop.call_soon(deliver, self.signum)

    def detach(self) -> None:
        self._loop = self._deliver = None

    def threads_left(self) -> bool:
        """Whether a non-daemon thread outlives the run (Textual's input thread on a dead
        terminal): it would keep the process alive for ever."""
        self._finished.set()
        left = [
            t
            for t in threading.enumerate()
            if t is not threading.main_thread() and not t.daemon and t.is_alive()
        ]
        for thread in left:
            thread.join(THREADS_JOIN_S / len(left))
        return any(t.is_alive() for t in left)

    def exit_if_threads_left(self, code: int) -> None:
        if self.threads_left():
            flush_and_exit(code)

    # -- signal handler (main thread, between any two bytecodes) ---------------------------

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.signum is not None:
            return  # a second hang-up (tmux and the kernel both send one)
        self.signum = signum
        os.write(self._wake_w, b"!")
        loop, deliver = self._loop, self._deliver
        if loop is not None and deliver is not None:
            self._delivered = True
            try:
                loop.call_soon_threadsafe(deliver, signum)
            except RuntimeError:  # the loop has just closed: the run is ending anyway
                pass
        elif self._interruptible:
            raise Hangup(signum)

    # -- watchdog thread --------------------------------------------------------------------

    def _watch(self) -> None:
        os.read(self._wake_r, 1)  # the first signal
        if self._finished.wait(self._grace_s):
            return
        for step in (self.autosave, self.stop_target):
            if step is not None:
                try:
                    step()
                except Exception:  # noqa: BLE001, S110 - the exit below must happen
                    pass
        flush_and_exit(128 + (self.signum or signal.SIGTERM))


def say(line: str) -> None:
    """One line on stderr. After a hang-up the terminal is gone and writing to it fails
    with EIO: that must not turn into a traceback, nor stop what comes next."""
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def flush_and_exit(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # noqa: BLE001, S110 - a dead terminal
            pass
    os._exit(code)


def terminal_driver() -> type[Driver] | None:
    """In a real terminal: Textual's driver, made to survive a hang-up."""
    try:
        from tui.safe_driver import HangupSafeDriver
    except ImportError:  # no termios (Windows): Textual's own choice
        return None
    return HangupSafeDriver
