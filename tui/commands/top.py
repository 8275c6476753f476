"""`flametop top` and `flametop demo`: start or find the target, start py-spy, run the
live screen, and always leave the terminal and the target as they should be."""

from __future__ import annotations

import argparse
import shlex
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from samplers.backends.lifecycle import SamplerLifecycle
from samplers.backends.registry import sampler_version
from samplers.errors import FlametopError, TargetNotFoundError, UsageError
from samplers.model import Metadata, SamplingOptions
from samplers.target.facts import TargetFacts
from samplers.target.launcher import Launched, launch, stop
from samplers.target.system import cmdline_of
from tui.hangup import ExitGuard, Hangup, flush_and_exit, say

if TYPE_CHECKING:
    from tui.app import FlametopApp


def _start_target(cmd: list[str]) -> tuple[subprocess.Popen[bytes], Path]:
    """Start `cmd` through the shared launcher: own session, output in a log file (it
    must not draw over the screen), flametop allowed to trace it, the sudo user's."""
    launched = launch(cmd)
    return launched.proc, launched.log


def _stop_target(proc: subprocess.Popen[bytes]) -> None:
    stop(Launched(proc, Path()))


def _report_log(log: Path) -> None:
    """Point at the started command's output, or remove the log when it said nothing."""
    try:
        if log.stat().st_size:
            say(f"flametop: the target's output is in {log}")
        else:
            log.unlink()
    except OSError:
        pass


def _metadata(pid: int, sampler: SamplerLifecycle, facts: TargetFacts | None = None) -> Metadata:
    """The target's own facts (its Python, git commit, ...) as `record` writes them."""
    return (facts or TargetFacts(pid)).metadata(
        sampler=sampler_version(sampler),
        rate=sampler.options.rate,
        mode=sampler.options.mode,
        start_time=time.time(),
        duration_s=0.0,
    )


def _run(
    args: argparse.Namespace, guard: ExitGuard, cmd: list[str] | None, label: str | None = None
) -> int:
    from samplers.backends.registry import make_sampler
    from samplers.target.system import SystemMonitor, find_python_process, process_alive

    if not (sys.stdin.isatty() and sys.__stderr__ is not None and sys.__stderr__.isatty()):
        raise UsageError(
            "flametop top needs a terminal (the screen is drawn on stderr and keys read from "
            "stdin); to sample without one use `flametop record`"
        )
    started: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    if cmd:
        started, log = _start_target(cmd)
        guard.stop_target = lambda: _stop_target(started)
        try:
            pid = find_python_process(started.pid)  # waits up to 3 s behind a wrapper
        except BaseException:  # Ctrl-C meanwhile: never leave the command running
            guard.no_more_interrupts()
            _stop_target(started)
            _report_log(log)
            raise
    else:
        pid = int(args.pid)
        if not process_alive(pid):
            raise TargetNotFoundError(
                f"no process with pid {pid}: check the pid with `ps` (it may have exited)"
            )
    try:
        cmdline = cmdline_of(pid) or tuple(cmd or ())
        options: SamplingOptions = args.sampling
        sampler = make_sampler(args.sampler, pid, options, our_child=started is not None)
        # Textual takes a few hundred ms to import: do it while py-spy attaches.
        importer = threading.Thread(target=_import_app, name="import-tui", daemon=True)
        importer.start()
        # so are the target's facts (`python --version`, git: ~50 ms of subprocesses)
        facts: list[TargetFacts] = []
        reader = threading.Thread(
            target=lambda: facts.append(TargetFacts(pid)), name="target-facts", daemon=True
        )
        reader.start()
        try:
            sampler.start()  # fails here, before the screen, with a one-line reason
        finally:
            importer.join()  # never leave an import half done at exit
            reader.join()
        from tui.app import FlametopApp

        shown = label or shlex.join(cmdline)
        app = FlametopApp(
            sampler,
            target=f"pid {pid} {shown}",
            metadata=_metadata(pid, sampler, facts[0] if facts else None),
            save_dir=args.save_dir,
            monitor=SystemMonitor(pid, exclude_from_self=started.pid if started else None),
            options=options,
            sampler_started=True,
            exit_guard=guard,
        )
        guard.autosave = lambda: _autosave_now(app)
        guard.no_more_interrupts()  # the app takes SIGHUP/SIGTERM from here on
        try:
            app.run()
        finally:
            _drop_job_control()
            app.loop.stop()
            if not app.loop.done.wait(10.0):
                sampler.stop()
            if guard.signum is not None:  # hung up while quitting: the screen never saw it
                app.autosave_once()
    finally:
        guard.no_more_interrupts()  # a signal now must not cut the cleanup short
        ended_itself = started.poll() if started is not None else None  # before we stop it
        if started is not None:
            _stop_target(started)
        if log is not None:
            _report_log(log)
    for path in app.autosaved:
        say(f"flametop: autosaved {path}")
    for problem in app.autosave_errors:
        say(f"flametop: autosave failed: {problem}")
    code = int(app.return_code or 0)
    if guard.signum is not None:
        return 128 + guard.signum
    health = sampler.health
    if code == 0 and health.state == "failed":
        reason = health.errors[-1] if health.errors else "py-spy stopped working"
        say(f"flametop: sampling failed: {reason}")
        return 1
    if code == 0 and health.state == "target-exited":
        # As `flametop record`: an attached process that went away, or a started
        # command that died, ended the run early (exit 1); a command that finished, not.
        if started is None:
            say(f"flametop: pid {pid} exited during the session")
            return 1
        if ended_itself not in (None, 0):
            say(f"flametop: the command {_how_it_ended(ended_itself)}")
            return 1
    return code


def _how_it_ended(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _drop_job_control() -> None:
    """Textual's SIGTSTP/SIGCONT handlers outlive the screen; a SIGCONT (sent with every
    hang-up) would restart the screen or raise from wherever the main thread is."""
    for sig in (signal.SIGTSTP, signal.SIGCONT):
        signal.signal(sig, signal.SIG_DFL)


def _autosave_now(app: FlametopApp) -> None:
    """The watchdog's autosave, when the app did not get to it."""
    app.autosave_once(wait_s=2.0)
    for path in app.autosaved:
        say(f"flametop: autosaved {path}")
    for problem in app.autosave_errors:
        say(f"flametop: autosave failed: {problem}")


def _import_app() -> None:
    try:
        import tui.app  # noqa: F401
    except Exception:  # noqa: BLE001 - imported again on the main thread, which reports it
        pass


def run_top(args: argparse.Namespace) -> int:
    return _guarded(args, list(args.cmd) if args.cmd else None)


def run_demo(args: argparse.Namespace) -> int:
    """Profile the built-in demo workload (tui/demo_workload.py) live."""
    cmd = [sys.executable, "-m", "tui.demo_workload"]
    args.pid = None
    return _guarded(args, cmd, label="flametop demo workload")


def _guarded(args: argparse.Namespace, cmd: list[str] | None, label: str | None = None) -> int:
    """Run with SIGHUP/SIGTERM handled from the first moment to the last (tui/hangup.py)."""
    guard = ExitGuard()
    guard.install()
    try:
        code = _run(args, guard, cmd, label)
    except Hangup as hangup:
        code = 128 + hangup.signum
    except KeyboardInterrupt:
        code = 130
    except BaseException as exc:
        guard.uninstall()
        if guard.threads_left():  # the process would not end: say why here, then end it
            if isinstance(exc, FlametopError):
                say(f"flametop: {exc.message}")
                flush_and_exit(exc.exit_code)
            say(traceback.format_exc().rstrip())
            flush_and_exit(1)
        raise
    guard.uninstall()
    guard.exit_if_threads_left(code)
    return code
