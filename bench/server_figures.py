"""Figure 11: a real server. tests/targets/prefork_server.py (an idle master and four
forked workers, a dozen framework layers over the handler) under a loopback client that
keeps four requests in flight; `flametop top --subprocesses` and `py-spy top
--subprocesses` on its master, each in a real pseudo-terminal (tmux), alternated. Own
CPU is the tool's process and children over the run, start-up included; flametop's
coverage (instants sampled of asked for, summed over the processes) is read off its
header at the end."""

from __future__ import annotations

import re
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench.common import BIN, PYTHON, ROOT, Line, Measure, ratio, run, tree_cpu_seconds
from bench.live_common import TMUX
from bench.top_figures import _pane_text, _tool_process

SERVER = ROOT / "tests" / "targets" / "prefork_server.py"
SERVER_S = 20.0
WORKERS = 4
COVERAGE = re.compile(r"(\d+)% cov")


def _load(port: int, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:  # noqa: S310 - loopback
                answer.read()
        except OSError:
            time.sleep(0.05)


def _one(kind: str, save_dir: str) -> tuple[float | None, float | None]:
    """(own CPU % of a core, coverage % from the header or None) of one run."""
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        server = subprocess.Popen(  # noqa: S603 - fixed argument list
            [PYTHON, str(SERVER), str(port_file), str(WORKERS)], start_new_session=True
        )
        stop = threading.Event()
        session = f"srv{server.pid}"
        try:
            deadline = time.monotonic() + 15
            while not port_file.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            port = int(port_file.read_text(encoding="utf-8"))
            clients = [threading.Thread(target=_load, args=(port, stop)) for _ in range(4)]
            for c in clients:
                c.start()
            time.sleep(1.0)  # the load is on
            if kind == "py-spy top":
                cmd = [str(BIN / "py-spy"), "top", "--subprocesses", "--pid", str(server.pid)]
            else:
                cmd = [str(BIN / "flametop"), "top", "--subprocesses", "--pid", str(server.pid)]
                cmd += ["--save-dir", save_dir]
            run(
                [*TMUX, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", *cmd],
                timeout=10,
            )
            time.sleep(0.5)
            tool = _tool_process(session, Path(cmd[0]).name)
            time.sleep(SERVER_S)
            own, kids = tree_cpu_seconds(tool) if tool else (0.0, 0.0)
            elapsed = SERVER_S + 0.5  # from the command's start, near enough
            cpu = 100 * (own + kids) / elapsed if tool else None
            seen = COVERAGE.search(_pane_text(session)) if kind != "py-spy top" else None
            return cpu, float(seen.group(1)) if seen else None
        finally:
            run([*TMUX, "kill-session", "-t", session], timeout=5)
            stop.set()
            server.terminate()
            try:
                server.wait(5)
            except subprocess.TimeoutExpired:
                server.kill()


def server_figures(repeats: int) -> list[Line]:
    ours: list[float] = []
    peer: list[float] = []
    coverage: list[float] = []
    with tempfile.TemporaryDirectory() as save_dir:
        for _ in range(max(1, repeats)):
            for kind in ("flametop top", "py-spy top"):
                cpu, cov = _one(kind, save_dir)
                if cpu is not None:
                    (ours if kind == "flametop top" else peer).append(cpu)
                if cov is not None:
                    coverage.append(cov)
    ft, ps = Measure(tuple(ours), "%"), Measure(tuple(peer), "%")
    r = ratio(ft, ps) if ours and peer else None
    note = f"flametop coverage {Measure(tuple(coverage), '%', 0).text()}" if coverage else ""
    return [
        Line(
            "11 real server",
            f"own CPU, --subprocesses on a loaded pre-fork master ({WORKERS} workers), "
            f"{SERVER_S:.0f} s",
            ours=ft if ours else None,
            peer=ps if peer else None,
            peer_name="py-spy top --subprocesses",
            ratio=r,
            goal="≤ 1.0× py-spy top",
            met=None if r is None else r <= 1.0,
            note=note,
        )
    ]
