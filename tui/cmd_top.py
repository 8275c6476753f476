"""`flametop top` and `flametop demo`: start or find the target, start py-spy, run the
live screen, and always leave the terminal and the target as they should be."""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from samplers import __version__
from samplers.errors import FlametopError, TargetNotFoundError, UsageError
from samplers.model import Metadata

STOP_GRACE_S = 3.0


def _cmdline_of(pid: int) -> tuple[str, ...]:
    try:
        return tuple(psutil.Process(pid).cmdline())
    except psutil.Error:
        return ()


def _start_target(cmd: list[str]) -> tuple[subprocess.Popen[bytes], Path]:
    """Start `cmd` with its output in a log file (it must not draw over the screen)."""
    fd, log_name = tempfile.mkstemp(prefix="flametop-target-", suffix=".log")
    try:
        proc = subprocess.Popen(  # noqa: S603 - the user's own command, as an argument list
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            start_new_session=True,  # our Ctrl-C / SIGHUP handling decides its fate
        )
    except OSError as exc:
        os.close(fd)
        raise TargetNotFoundError(
            f"cannot start {shlex.join(cmd)}: {exc.strerror or exc}; check the command and PATH"
        ) from None
    os.close(fd)
    return proc, Path(log_name)


def _stop_target(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except OSError:
        proc.terminate()
    try:
        proc.wait(STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
        proc.wait(STOP_GRACE_S)


def _report_log(log: Path) -> None:
    """Point at the started command's output, or remove the log when it said nothing."""
    try:
        if log.stat().st_size:
            print(f"flametop: the target's output is in {log}", file=sys.stderr)
        else:
            log.unlink()
    except OSError:
        pass


def _metadata(pid: int, cmdline: tuple[str, ...], args: argparse.Namespace) -> Metadata:
    return Metadata(
        flametop_version=__version__,
        sampler=str(getattr(args, "sampler", "py-spy")),
        rate=float(args.rate),
        mode=str(args.mode),
        start_time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        host=platform.node(),
        pid=pid,
        cmdline=cmdline,
        python_version=platform.python_version(),
    )


def _run(args: argparse.Namespace, cmd: list[str] | None, label: str | None = None) -> int:
    from samplers.factory import make_sampler
    from samplers.system import SystemMonitor, find_python_process, process_alive

    if not (sys.stdin.isatty() and sys.__stderr__ is not None and sys.__stderr__.isatty()):
        raise UsageError(
            "flametop top needs a terminal (the screen is drawn on stderr and keys read from "
            "stdin); to sample without one use `flametop record`"
        )
    started: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    if cmd:
        started, log = _start_target(cmd)
        try:
            pid = find_python_process(started.pid)  # waits up to 3 s behind a wrapper
        except BaseException:  # Ctrl-C meanwhile: never leave the command running
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
        cmdline = _cmdline_of(pid) or tuple(cmd or ())
        sampler = make_sampler(
            getattr(args, "sampler", "py-spy"),
            pid,
            mode=args.mode,
            rate=args.rate,
            threads=args.threads,
            native=args.native,
            subprocesses=args.subprocesses,
            nonblocking=args.nonblocking,
        )
        # Textual takes a few hundred ms to import: do it while py-spy attaches.
        importer = threading.Thread(target=_import_app, name="import-tui", daemon=True)
        importer.start()
        try:
            sampler.start()  # fails here, before the screen, with a one-line reason
        finally:
            importer.join()  # never leave an import half done at exit
        from tui.app import FlametopApp

        shown = label or shlex.join(cmdline)
        app = FlametopApp(
            sampler,
            target=f"pid {pid} {shown}",
            metadata=_metadata(pid, cmdline, args),
            save_dir=args.save_dir,
            monitor=SystemMonitor(pid, exclude_from_self=started.pid if started else None),
            rate=float(args.rate),
            mode=str(args.mode),
            sampler_started=True,
            handle_signals=True,
        )
        try:
            app.run()
        finally:
            app.loop.stop()
            if not app.loop.done.wait(10.0):
                sampler.stop()
    finally:
        ended_itself = started.poll() if started is not None else None  # before we stop it
        if started is not None:
            _stop_target(started)
        if log is not None:
            _report_log(log)
    for path in app.autosaved:
        print(f"flametop: autosaved {path}", file=sys.stderr)
    for problem in app.autosave_errors:
        print(f"flametop: autosave failed: {problem}", file=sys.stderr)
    code = int(app.return_code or 0)
    health = sampler.health
    if code == 0 and health.state == "failed":
        reason = health.errors[-1] if health.errors else "py-spy stopped working"
        print(f"flametop: sampling failed: {reason}", file=sys.stderr)
        return 1
    if code == 0 and health.state == "target-exited":
        # As `flametop record`: an attached process that went away, or a started
        # command that died, ended the run early (exit 1); a command that finished, not.
        if started is None:
            print(f"flametop: pid {pid} exited during the session", file=sys.stderr)
            return 1
        if ended_itself not in (None, 0):
            print(f"flametop: the command {_how_it_ended(ended_itself)}", file=sys.stderr)
            return 1
    return code


def _how_it_ended(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


def _import_app() -> None:
    try:
        import tui.app  # noqa: F401
    except Exception:  # noqa: BLE001 - imported again on the main thread, which reports it
        pass


def run_top(args: argparse.Namespace) -> int:
    try:
        return _run(args, list(args.cmd) if args.cmd else None)
    except FlametopError:
        raise
    except KeyboardInterrupt:
        return 130


def run_demo(args: argparse.Namespace) -> int:
    """Profile the built-in demo workload (tui/demo_workload.py) live."""
    cmd = [sys.executable, "-m", "tui.demo_workload"]
    args.pid = None
    return _run(args, cmd, label="flametop demo workload")
