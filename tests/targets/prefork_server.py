"""A pre-fork HTTP server, as gunicorn's sync workers are: the master binds a port,
forks N workers that accept on the shared socket, and waits. Each request goes
through a dozen layers of "framework" (middleware, routing, dispatch) before the
handler, whose time is in `find_emails` (about 3/4) and `query_items` (about 1/4).

    python prefork_server.py PORT_FILE [WORKERS]

writes the port it listens on to PORT_FILE once every worker runs. The master stays
idle in os.wait(), so its own CPU is ~0 while the workers burn it under load.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

Environ = dict[str, object]
StartResponse = Callable[[str, list[tuple[str, str]]], object]
App = Callable[[Environ, StartResponse], Iterable[bytes]]

_EMAIL = re.compile(r"[\w.]+@[\w.]+")
_TEXT = " ".join(f"user{i}@example.org filler words" for i in range(200))


def find_emails(deadline: float) -> int:
    found = 0
    while time.perf_counter() < deadline:
        found += len(_EMAIL.findall(_TEXT))
    return found


def query_items(deadline: float) -> int:
    n = 0
    while time.perf_counter() < deadline:
        n += sum(i * i for i in range(500))
    return n


def handler(environ: Environ) -> bytes:
    start = time.perf_counter()
    emails = find_emails(start + 0.0045)
    items = query_items(start + 0.006)
    return f"{emails} {items}\n".encode()


def layer(inner: App, name: str) -> App:
    """One middleware: each is a real frame in every sampled stack, as in a framework."""

    def middleware(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        environ[name] = True
        return inner(environ, start_response)

    # its own code object per layer, so samplers see `check_csrf`, `route`, … as frames
    code = middleware.__code__
    try:
        code = code.replace(co_name=name, co_qualname=name)  # type: ignore[call-arg]
    except TypeError:  # Python < 3.11: no co_qualname
        code = code.replace(co_name=name)
    middleware.__code__ = code
    return middleware


def endpoint(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
    body = handler(environ)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def build_app() -> App:
    app: App = endpoint
    for name in (
        "dispatch_request", "route", "check_csrf", "load_session", "authenticate",
        "rate_limit", "compress", "log_request", "trace_request", "handle_errors",
        "wsgi_app",
    ):  # fmt: skip
        app = layer(app, name)
    return app


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
        pass


def worker(listener: socket.socket) -> None:
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    server = WSGIServer(("127.0.0.1", 0), QuietHandler, bind_and_activate=False)
    server.socket.close()
    server.socket = listener
    server.server_address = listener.getsockname()
    server.server_name, server.server_port = "localhost", server.server_address[1]
    server.setup_environ()
    server.set_app(build_app())
    server.serve_forever(poll_interval=0.5)


def main() -> None:
    port_file = sys.argv[1]
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            worker(listener)
            os._exit(0)
        children.append(pid)

    def stop(*_: object) -> None:
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    tmp = port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(str(listener.getsockname()[1]))
    os.replace(tmp, port_file)
    while children:
        try:
            pid, _ = os.wait()
        except ChildProcessError:
            break
        if pid in children:
            children.remove(pid)


if __name__ == "__main__":
    main()
