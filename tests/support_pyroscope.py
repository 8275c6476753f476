"""A local stand-in for a Pyroscope server: an HTTP(S) server on 127.0.0.1 that checks
every request against the ingest contract documented in ../shared/FORMATS.md and
grafana/pyroscope's handler (pkg/ingester/pyroscope/ingest_handler.go, labelset rules):

- `POST /ingest`, query `name` = `app{k=v,…}` (app: letters, digits, _ . - /; label
  names: letters, digits, _ .; values without `,` `}`), `from` < `until` Unix seconds,
  `format=pprof`, `spyName`, `sampleRate` an integer;
- a Content-Type, and a gzip'd body that decodes as profile.proto with string_table[0] "";
- the auth the test expects: basic, bearer, X-Scope-OrgID.

A request that breaks the contract is answered 400 with the reason and recorded in
`violations`, so a test fails with the cause. The test picks what the server answers
next: 200, any status, a hang (no answer until released), or being down altogether.
"""

from __future__ import annotations

import base64
import gzip
import re
import ssl
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_APP = re.compile(r"^[A-Za-z0-9_./-]+$")
_LABEL = re.compile(r"^[A-Za-z0-9_.]+$")


@dataclass(frozen=True)
class Received:
    """One request the server accepted."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def app(self) -> str:
        return parse_name(self.query["name"])[0]

    @property
    def labels(self) -> dict[str, str]:
        return parse_name(self.query["name"])[1]

    @property
    def span(self) -> tuple[int, int]:
        return int(self.query["from"]), int(self.query["until"])


def parse_name(name: str) -> tuple[str, dict[str, str]]:
    """Pyroscope's labelset syntax `app{k=v,k2=v2}`; raises ValueError when invalid."""
    app, brace, rest = name.partition("{")
    app = app.strip()
    if not _APP.match(app):
        raise ValueError(f"invalid service name {app!r}")
    labels: dict[str, str] = {}
    if not brace:
        return app, labels
    if not rest.endswith("}"):
        raise ValueError(f"name {name!r} does not end with }}")
    inner = rest[:-1]
    for pair in filter(None, inner.split(",")):
        key, eq, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not _LABEL.match(key) or key == "__name__":
            raise ValueError(f"invalid label {pair!r}")
        if not value or "}" in value or "{" in value:
            raise ValueError(f"invalid label value in {pair!r}")
        labels[key] = value
    return app, labels


def check_pprof(body: bytes) -> str:
    """ "" when `body` is a gzip'd profile.proto, else why not."""
    from samplers.formats.pprof_schema import ProfileMessage

    if body[:2] != b"\x1f\x8b":
        return "body is not gzip'd"
    try:
        raw = gzip.decompress(body)
        msg = ProfileMessage()
        msg.ParseFromString(raw)
    except Exception as exc:  # noqa: BLE001 - any failure is the finding
        return f"body is not a pprof profile ({type(exc).__name__})"
    if not msg.string_table or msg.string_table[0] != "":
        return "string_table[0] is not empty"
    if not msg.sample:
        return "profile has no samples"
    return ""


@dataclass
class Expect:
    """What auth the test expects; None: must be absent."""

    basic: tuple[str, str] | None = None
    token: str | None = None
    tenant: str | None = None


@dataclass
class FakePyroscope:
    expect: Expect = field(default_factory=Expect)
    received: list[Received] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    attempts: int = 0
    # what to answer: ("ok",) | ("status", code, text) | ("hang",)
    answer: tuple[object, ...] = ("ok",)
    tls: tuple[Path, Path] | None = None  # (cert, key)
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def url_with(self, user: str, password: str) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{user}:{password}@127.0.0.1:{self.port}"

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        handler = _handler_for(self)
        server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        server.daemon_threads = True
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(self.tls[0]), str(self.tls[1]))
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def down(self) -> None:
        """Stop listening: connections are refused until up()."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def up(self) -> None:
        """Listen again on the same port."""
        self._release.clear()
        self.start()

    def release(self) -> None:
        """Let hanging requests end (they get a 503)."""
        self._release.set()

    # -- handling ---------------------------------------------------------------------

    def _check(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> list[str]:
        bad: list[str] = []
        if method != "POST":
            bad.append(f"method {method}, not POST")
        if path != "/ingest":
            bad.append(f"path {path}, not /ingest")
        for key in ("name", "from", "until", "format", "spyName", "sampleRate"):
            if len(query.get(key, [])) != 1:
                bad.append(f"query field {key} missing or repeated")
        if bad:
            return bad
        try:
            parse_name(query["name"][0])
        except ValueError as exc:
            bad.append(f"name: {exc}")
        try:
            start, end = int(query["from"][0]), int(query["until"][0])
            if not 1_000_000_000 < start < end:
                bad.append(f"from {start} / until {end} are not Unix seconds with from < until")
        except ValueError:
            bad.append("from/until are not integers")
        if query["format"][0] != "pprof":
            bad.append(f"format {query['format'][0]}, not pprof")
        if not query["sampleRate"][0].isdigit() or int(query["sampleRate"][0]) <= 0:
            bad.append("sampleRate is not a positive integer")
        if not headers.get("content-type"):
            bad.append("no Content-Type")
        if "multipart" in headers.get("content-type", ""):
            bad.append("a multipart body with format=pprof")
        problem = check_pprof(body)
        if problem:
            bad.append(problem)
        return bad

    def _auth_ok(self, headers: dict[str, str]) -> bool:
        auth = headers.get("authorization")
        e = self.expect
        if e.basic is not None:
            want = "Basic " + base64.b64encode(f"{e.basic[0]}:{e.basic[1]}".encode()).decode()
            if auth != want:
                return False
        elif e.token is not None:
            if auth != f"Bearer {e.token}":
                return False
        elif auth is not None:
            return False
        return headers.get("x-scope-orgid") == e.tenant

    def handle(self, h: BaseHTTPRequestHandler) -> tuple[int, bytes]:
        with self._lock:
            self.attempts += 1
            answer = self.answer
        parts = urllib.parse.urlsplit(h.path)
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in h.headers.items()}
        length = int(headers.get("content-length", "0") or 0)
        body = h.rfile.read(length) if length else b""
        if answer[0] == "hang":
            self._release.wait(120)
            return 503, b"released\n"
        if answer[0] == "status":
            return int(answer[1]), str(answer[2]).encode()  # type: ignore[call-overload]
        if not self._auth_ok(headers):
            return 401, b"unauthorized: credentials do not match\n"
        bad = self._check(h.command, parts.path, query, headers, body)
        if bad:
            with self._lock:
                self.violations.extend(bad)
            return 400, ("; ".join(bad) + "\n").encode()
        with self._lock:
            self.received.append(
                Received(parts.path, {k: v[0] for k, v in query.items()}, headers, body)
            )
        return 200, b""


def _handler_for(fake: FakePyroscope) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            code, text = fake.handle(self)
            try:
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)
            except OSError:
                pass  # the client gave up (a timeout test)

        do_POST = _any
        do_GET = _any
        do_PUT = _any

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


@contextmanager
def fake_pyroscope(**kwargs: object) -> Iterator[FakePyroscope]:
    fake = FakePyroscope(**kwargs)  # type: ignore[arg-type]
    fake.start()
    try:
        yield fake
    finally:
        fake.down()


def self_signed_cert(tmp: Path) -> tuple[Path, Path] | None:
    """A certificate for 127.0.0.1 made by the openssl CLI, or None without it."""
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    try:
        done = subprocess.run(  # noqa: S603 - fixed argument list
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return (cert, key) if done.returncode == 0 else None
