"""A real pre-fork server under load from a loopback client, for tests that need
"a server nobody here tuned": tests/targets/prefork_server.py (a master that idles and
N forked workers that serve a deep framework-like stack) and a client that keeps
`concurrency` requests in flight until told to stop."""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from support_targets import running_target


@dataclass
class Server:
    master: int
    port: int
    requests: int = 0  # answered so far by the load client
    _stop: threading.Event = field(default_factory=threading.Event)

    def workers(self) -> list[int]:
        return [c.pid for c in psutil.Process(self.master).children()]


def _client(server: Server) -> None:
    url = f"http://127.0.0.1:{server.port}/"
    while not server._stop.is_set():
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
                answer.read()
            server.requests += 1
        except OSError:
            time.sleep(0.05)  # a worker restarting, a full backlog: try again


@contextmanager
def prefork_server(tmp_path: Path, workers: int = 4, concurrency: int = 4) -> Iterator[Server]:
    """`with prefork_server(tmp_path) as server:` — serving and loaded on entry; the
    server, its workers and the client are gone on exit."""
    port_file = tmp_path / "server.port"
    with running_target("prefork_server", str(port_file), str(workers)) as master:
        deadline = time.monotonic() + 15
        while not port_file.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("prefork_server never wrote its port")
            time.sleep(0.05)
        server = Server(master, int(port_file.read_text(encoding="utf-8")))
        clients = [
            threading.Thread(target=_client, args=(server,), daemon=True)
            for _ in range(concurrency)
        ]
        for c in clients:
            c.start()
        while server.requests < workers:  # every worker has served: the load is on
            if time.monotonic() > deadline:
                raise RuntimeError("prefork_server answered no request")
            time.sleep(0.05)
        try:
            yield server
        finally:
            server._stop.set()
            for c in clients:
                c.join(6)
