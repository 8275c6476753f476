"""`flametop upload` without the command line: profile files and spools sent to a server.

A file's span is its metadata's start time and duration; a file that does not say when it
was recorded (folded stacks, most foreign files) is taken to have ended when it was last
modified. A spool is sent oldest first and stops at the first failure that may pass, so
the order survives; a file the server rejects as a body is removed and counted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from samplers.errors import FormatError, UploadError
from samplers.model import Profile
from samplers.session.spool import Spool
from samplers.session.upload import Server, Upload, profile_upload, send


def profile_span(
    profile: Profile, path: str | os.PathLike[str] | None = None
) -> tuple[float, float]:
    """(start, end) in Unix seconds of a profile read from `path`."""
    meta = profile.metadata
    duration = meta.duration_s
    if duration <= 0 and meta.rate > 0:
        duration = profile.in_mode().total / meta.rate  # samples of one thread, at best
    duration = max(duration, 1.0)
    if meta.start_time:
        try:
            when = datetime.fromisoformat(meta.start_time)
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
            start = when.timestamp()
            return start, start + duration
        except ValueError:
            pass
    if path is None:
        raise FormatError("does not say when it was recorded")
    try:
        end = Path(path).stat().st_mtime
    except OSError as exc:
        raise FormatError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    return end - duration, end


def file_upload(
    profile: Profile, path: str | os.PathLike[str], app: str, tags: tuple[tuple[str, str], ...]
) -> Upload:
    start, end = profile_span(profile, path)
    return profile_upload(profile, app, tags, start, end)


@dataclass
class SpoolResult:
    sent: int = 0
    refused: int = 0
    left: int = 0
    dropped: int = 0
    errors: list[str] = field(default_factory=list)


def send_spool(
    server: Server,
    spool: Spool,
    app: str = "",
    tags: tuple[tuple[str, str], ...] = (),
) -> SpoolResult:
    """Send every spooled profile, oldest first, up to the first failure that may pass.
    `app` and `tags`, when given, replace or add to what each file was spooled with."""
    result = SpoolResult()
    spool.trim()
    for item in spool.items():
        upload = spool.load(item)
        if upload is None:
            continue
        if app or tags:
            labels = dict(upload.labels)
            labels.update(tags)
            upload = Upload(
                app or upload.app,
                tuple(labels.items()),
                upload.start,
                upload.end,
                upload.sample_rate,
                upload.body,
            )
        try:
            send(server, upload)
        except UploadError as exc:
            result.errors.append(exc.message)
            if exc.keep:
                break
            spool.remove(item)
            result.refused += 1
            continue
        spool.remove(item)
        result.sent += 1
    result.left = len(spool.items())
    result.dropped = spool.dropped
    return result
