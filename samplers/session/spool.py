"""The on-disk spool of profiles waiting for a server: what keeps an outage from losing
intervals.

One file per profile, `<created ns>-<pid>.upload`, written atomically with mode 0600 in a
0700 directory: a header line, a JSON line (app, labels, from, until, sample rate) and
the gzip'd pprof body. Files sort in the order they were made, which is the order they
are sent. The spool is bounded by total size and by age; the oldest files go first, and
every file dropped is counted. One flametop at a time sends from a spool: it holds an
exclusive lock on `.lock` for as long as it has the spool open.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samplers.errors import FormatError, UsageError
from samplers.formats.fileio import atomic_write
from samplers.session.upload import Upload

MAGIC = b"flametop-spool 1\n"
SUFFIX = ".upload"
DEFAULT_MAX_BYTES = 256 << 20
DEFAULT_MAX_AGE = 24 * 3600.0


def default_spool_dir(app: str, env: dict[str, str] | None = None) -> Path:
    """`$XDG_STATE_HOME/flametop/spool/APP` (default ~/.local/state/…): one per app, so
    two recorders of different apps never share one."""
    env = dict(os.environ) if env is None else env
    state = env.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "flametop" / "spool" / app.replace("/", "_")


@dataclass(frozen=True, slots=True)
class SpoolItem:
    path: Path
    created_ns: int
    size: int


def encode(upload: Upload) -> bytes:
    header = {
        "app": upload.app,
        "labels": [list(kv) for kv in upload.labels],
        "from": upload.start,
        "until": upload.end,
        "sampleRate": upload.sample_rate,
    }
    return MAGIC + json.dumps(header, ensure_ascii=True).encode() + b"\n" + upload.body


def decode(data: bytes) -> Upload:
    if not data.startswith(MAGIC):
        raise FormatError("is not a flametop spool file")
    line, sep, body = data[len(MAGIC) :].partition(b"\n")
    try:
        if not sep:
            raise ValueError("no header line")
        header: Any = json.loads(line)
        labels = tuple((str(k), str(v)) for k, v in header["labels"])
        return Upload(
            app=str(header["app"]),
            labels=labels,
            start=int(header["from"]),
            end=int(header["until"]),
            sample_rate=int(header["sampleRate"]),
            body=body,
        )
    except (TypeError, ValueError, KeyError) as exc:
        raise FormatError(f"has a damaged header ({type(exc).__name__})") from None


class Spool:
    """A spool directory, locked for this process until close()."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.clock = clock
        self.dropped = 0  # files removed to stay within the bounds, or unreadable
        self._last_ns = 0
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                f"cannot use spool {self.directory}: {exc.strerror or exc}; give --spool DIR"
            ) from None
        if not self.directory.is_dir():
            raise UsageError(f"spool {self.directory} is not a directory; give --spool DIR")
        self._lock_fd = self._lock()

    def _lock(self) -> int:
        path = self.directory / ".lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise UsageError(
                f"cannot use spool {self.directory}: {exc.strerror or exc}; give --spool DIR"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise UsageError(
                f"spool {self.directory} is in use by another flametop; wait for it to end "
                "or give another --spool DIR"
            ) from None
        return fd

    def close(self) -> None:
        if self._lock_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._lock_fd)
            self._lock_fd = -1

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def items(self) -> list[SpoolItem]:
        """Every spooled file, oldest first."""
        out: list[SpoolItem] = []
        try:
            entries = list(os.scandir(self.directory))
        except OSError:
            return out
        for entry in entries:
            if not entry.name.endswith(SUFFIX) or entry.name.startswith("."):
                continue
            stem = entry.name[: -len(SUFFIX)].split("-", 1)[0]
            if not stem.isdigit():
                continue
            try:
                size = entry.stat(follow_symlinks=False).st_size
            except OSError:
                continue
            out.append(SpoolItem(Path(entry.path), int(stem), size))
        out.sort(key=lambda item: (item.created_ns, item.path.name))
        return out

    def put(self, upload: Upload) -> Path:
        """Spool one profile, then trim to the bounds (which may drop it if it alone is
        larger than the whole spool may be). Raises OutputError when it cannot be written."""
        now_ns = max(int(self.clock() * 1e9), self._last_ns + 1)  # strictly increasing
        self._last_ns = now_ns
        path = self.directory / f"{now_ns:020d}-{os.getpid()}{SUFFIX}"
        atomic_write(path, encode(upload))
        self.trim()
        return path

    def trim(self) -> int:
        """Drop files older than max_age, then the oldest until the total fits max_bytes.
        Returns how many were dropped now (also added to `dropped`)."""
        items = self.items()
        oldest_kept = (self.clock() - self.max_age) * 1e9
        dropped = 0
        total = sum(item.size for item in items)
        for item in items:
            if item.created_ns >= oldest_kept and total <= self.max_bytes:
                break
            total -= item.size
            if self._remove(item.path):
                dropped += 1
        self.dropped += dropped
        return dropped

    def load(self, item: SpoolItem) -> Upload | None:
        """The spooled profile, or None (counted as dropped, and removed) when it cannot
        be read back: a damaged file must not block the ones behind it."""
        try:
            data = item.path.read_bytes()
            return decode(data)
        except FileNotFoundError:
            return None
        except (OSError, FormatError):
            if self._remove(item.path):
                self.dropped += 1
            return None

    def remove(self, item: SpoolItem) -> None:
        self._remove(item.path)

    @staticmethod
    def _remove(path: Path) -> bool:
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError:
            return False
        return True
