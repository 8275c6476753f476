"""Sending profiles to a Pyroscope-compatible server over its HTTP ingest API.

One request per profile: `POST {server}/ingest?name=APP{k=v,…}&from=…&until=…&format=pprof
&spyName=flametop&sampleRate=…` with the gzip'd pprof as the body (Pyroscope reads a
`format=pprof` body as pprof whatever its content type). Auth: basic from `user:pass@` in
the URL (as Grafana Cloud wants), a bearer token from FLAMETOP_UPLOAD_TOKEN, the tenant in
X-Scope-OrgID. https checks certificates (against --cacert when given). Redirects are not
followed: they would resend the credentials to another place, or drop the body.

Only the stdlib (urllib, ssl): no HTTP dependency for one POST.
"""

from __future__ import annotations

import base64
import math
import os
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from samplers import __version__
from samplers.errors import UploadError, UsageError
from samplers.formats import pprof
from samplers.model import Metadata, Profile

TOKEN_ENV = "FLAMETOP_UPLOAD_TOKEN"
DEFAULT_TIMEOUT = 10.0
SPY_NAME = "flametop"

# Pyroscope's labelset rules (api/model/labelset/validate.go).
_APP = re.compile(r"^[A-Za-z0-9_./-]+$")
_LABEL = re.compile(r"^[A-Za-z0-9_.]+$")
_BAD_VALUE = re.compile(r"[\s,{}=\x00-\x1f\x7f]+")
# The body was rejected as such: sending it again can never succeed.
_BODY_REJECTED = {400, 413, 415, 422}
_RETRY_STATUS = {408, 425, 429}

# Metadata that become labels, under the names Grafana knows where it has one
# (service_git_ref links flame graphs to source code).
_META_LABELS: tuple[tuple[str, str], ...] = (
    ("host", "hostname"),
    ("kernel_release", "kernel_release"),
    ("python_version", "python_version"),
    ("build_id", "build_id"),
    ("git_commit", "service_git_ref"),
    ("git_branch", "git_branch"),
)


@dataclass(frozen=True, slots=True)
class Server:
    """Where and how to send: the base URL without credentials, and the auth to use."""

    url: str
    basic: tuple[str, str] | None = None
    token: str = ""
    tenant: str = ""
    cacert: str = ""
    timeout: float = DEFAULT_TIMEOUT

    @property
    def shown(self) -> str:
        """The URL as it may be printed: never with a password or token."""
        return self.url


@dataclass(frozen=True, slots=True)
class Upload:
    """One profile ready to send: its series (app and labels), its time span in Unix
    seconds and its body (gzip'd pprof)."""

    app: str
    labels: tuple[tuple[str, str], ...]
    start: int
    end: int
    sample_rate: int
    body: bytes

    @property
    def name(self) -> str:
        """Pyroscope's `name` parameter: `app{k=v,…}`, labels sorted as it normalises them."""
        inner = ",".join(f"{k}={v}" for k, v in sorted(self.labels))
        return f"{self.app}{{{inner}}}"


def parse_server(
    url: str,
    *,
    tenant: str = "",
    cacert: str = "",
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> Server:
    """Check `--server` and the auth options; raises UsageError naming the fix."""
    env = os.environ if env is None else env
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--server {url!r} is not an http(s) URL; give one like https://pyroscope.example:4040"
        )
    if parts.query or parts.fragment:
        raise UsageError("--server takes the server's base URL, without ?query or #fragment")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"--server {url!r} has a bad port number") from None
    basic = None
    if parts.username is not None:
        basic = (
            urllib.parse.unquote(parts.username),
            urllib.parse.unquote(parts.password or ""),
        )
    token = env.get(TOKEN_ENV, "").strip()
    if basic is not None and token:
        raise UsageError(
            f"give either user:password@ in --server or {TOKEN_ENV}, not both (they are "
            "two kinds of Authorization)"
        )
    if cacert:
        if parts.scheme != "https":
            raise UsageError("--cacert is for an https server; the --server URL is http")
        if not os.path.isfile(cacert) or not os.access(cacert, os.R_OK):
            raise UsageError(f"--cacert {cacert}: no readable file there; give a PEM bundle")
    if tenant and not tenant.isprintable():
        raise UsageError("--tenant must be printable text")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host if port is None else f"{host}:{port}"
    base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    return Server(base, basic, token, tenant, cacert, timeout)


def check_app(app: str) -> str:
    if not app or not _APP.match(app):
        raise UsageError(
            f"--app {app!r}: an application name is letters, digits and _ . - / only "
            "(Pyroscope's rule); for example --app checkout-service"
        )
    return app


def parse_tags(tags: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """`--tag KEY=VALUE` pairs, checked against Pyroscope's label rules."""
    out: dict[str, str] = {}
    for tag in tags:
        key, sep, value = tag.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise UsageError(f"--tag {tag!r}: give KEY=VALUE, for example --tag env=staging")
        if not _LABEL.match(key) or key == "__name__":
            raise UsageError(
                f"--tag {tag!r}: a label name is letters, digits, _ and . only, and not __name__"
            )
        if _BAD_VALUE.search(value):
            raise UsageError(
                f"--tag {tag!r}: a label value cannot hold spaces, commas, braces or '='"
            )
        out[key] = value
    return tuple(out.items())


def metadata_labels(meta: Metadata) -> tuple[tuple[str, str], ...]:
    """Labels from the profile's own metadata; values made safe for Pyroscope's syntax."""
    out: list[tuple[str, str]] = []
    for field_name, label in _META_LABELS:
        value = _BAD_VALUE.sub("_", str(getattr(meta, field_name) or "")).strip("_")
        if value:
            out.append((label, value[:200]))
    return tuple(out)


def profile_upload(
    profile: Profile,
    app: str,
    tags: tuple[tuple[str, str], ...],
    start: float,
    end: float,
) -> Upload:
    """`profile` as one Upload over [start, end] (Unix seconds, whole ones sent).
    Given tags override metadata labels of the same name."""
    labels = dict(metadata_labels(profile.metadata))
    labels.update(tags)
    first = math.floor(start)
    last = max(math.floor(end), first + 1)
    rate = profile.metadata.rate or (profile.batches[0].rate if profile.batches else 0) or 100
    body = pprof.write(profile.in_mode())
    return Upload(check_app(app), tuple(labels.items()), first, last, round(rate), body)


def ingest_url(server: Server, upload: Upload) -> str:
    query = urllib.parse.urlencode(
        {
            "name": upload.name,
            "from": str(upload.start),
            "until": str(upload.end),
            "format": "pprof",
            "spyName": SPY_NAME,
            "sampleRate": str(upload.sample_rate),
        }
    )
    return f"{server.url}/ingest?{query}"


def ingest_request(server: Server, upload: Upload) -> urllib.request.Request:
    headers = {
        "Content-Type": "application/octet-stream",
        "User-Agent": f"flametop/{__version__}",
    }
    if server.basic is not None:
        pair = f"{server.basic[0]}:{server.basic[1]}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
    elif server.token:
        headers["Authorization"] = f"Bearer {server.token}"
    if server.tenant:
        headers["X-Scope-OrgID"] = server.tenant
    return urllib.request.Request(
        ingest_url(server, upload), data=upload.body, headers=headers, method="POST"
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the 3xx then surfaces as an HTTPError


def _opener(server: Server) -> urllib.request.OpenerDirector:
    context = ssl.create_default_context(cafile=server.cacert or None)
    return urllib.request.build_opener(_NoRedirect(), urllib.request.HTTPSHandler(context=context))


def _first_line(raw: bytes) -> str:
    text = raw[:2000].decode("utf-8", errors="replace").strip()
    line = text.splitlines()[0] if text else ""
    line = "".join(ch if ch.isprintable() else "?" for ch in line)
    return line[:200] or "(no message)"


def send(server: Server, upload: Upload) -> None:
    """POST one profile. Raises UploadError (keep=False when the server rejected the
    body itself, so sending it again cannot help)."""
    where = server.shown
    try:
        with _opener(server).open(ingest_request(server, upload), timeout=server.timeout) as r:
            r.read(1 << 16)
    except urllib.error.HTTPError as exc:
        status = exc.code
        try:
            answer = _first_line(exc.read())
        except OSError:
            answer = "(no message)"
        finally:
            exc.close()
        if 300 <= status < 400:
            target = exc.headers.get("Location", "") if exc.headers else ""
            raise UploadError(
                f"{where} redirected ({status}) to {target or 'another URL'}; give that URL "
                "as --server",
                status=status,
            ) from None
        hint = ""
        if status in (401, 403):
            hint = f"; check the credentials (user:password@ in --server, {TOKEN_ENV}, --tenant)"
        elif status == 404:
            hint = "; is --server the Pyroscope base URL (it serves /ingest)?"
        retry = status >= 500 or status in _RETRY_STATUS
        raise UploadError(
            f"{where} refused the profile: HTTP {status}: {answer}{hint}",
            keep=retry or status not in _BODY_REJECTED,
            status=status,
        ) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise UploadError(
                f"{where}: its TLS certificate is not trusted ({reason.verify_message}); "
                "give its CA with --cacert FILE"
            ) from None
        if isinstance(reason, TimeoutError):
            raise UploadError(f"{where} did not answer within {server.timeout:g} s") from None
        text = getattr(reason, "strerror", None) or str(reason)
        raise UploadError(f"cannot reach {where}: {text}") from None
    except TimeoutError:
        raise UploadError(f"{where} did not answer within {server.timeout:g} s") from None
    except ssl.SSLError as exc:
        raise UploadError(f"{where}: TLS failed ({exc.reason or exc})") from None
    except (ConnectionError, OSError) as exc:
        raise UploadError(f"cannot reach {where}: {exc.strerror or exc}") from None
