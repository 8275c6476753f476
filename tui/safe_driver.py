"""Textual's Linux driver, minus the restart it does on a SIGCONT nobody asked for."""

from __future__ import annotations

from textual.drivers.linux_driver import LinuxDriver


class HangupSafeDriver(LinuxDriver):
    """Restarts the screen on SIGCONT only after suspending it itself (on SIGTSTP).

    The kernel sends SIGCONT along with SIGHUP to a session leader whose terminal hangs up
    (an SSH connection dropped, a tmux session killed). LinuxDriver answers any SIGCONT by
    starting application mode again, inside the signal handler: a second writer thread,
    and a second, non-daemon input thread that nothing stops. On the dead terminal that
    thread spins forever and interpreter exit waits for it; a handler that runs while the
    main thread is in the writer queue can also leave that queue blocked for good.
    """

    def _sigcont_application(self, *args: object) -> None:
        # LinuxDriver._sigtstp_application sets this when it suspended the screen.
        if self._must_signal_resume:
            super()._sigcont_application(*args)
