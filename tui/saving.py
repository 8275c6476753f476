"""Snapshot (`s`) and autosave files: names, the window profile, and the writes.

Runs off the UI thread. Every write goes through samplers' atomic writers (temp file,
rename, mode 0600, never replacing a file), and every failure is returned as text for a
notification instead of raised: a full disk must not end a live session.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from samplers.errors import FlametopError
from samplers.formats.fileio import atomic_write
from samplers.model import Frame, Profile, Sample, SampleBatch
from samplers.processes import process_of
from samplers.tree.index import text_matcher
from samplers.tree.snapshot import Snapshot, View


@dataclass(frozen=True, slots=True)
class SaveResult:
    written: tuple[Path, ...]
    errors: tuple[str, ...]


def base_name(save_dir: Path, label: str, now: float | None = None) -> Path:
    """`save_dir/flametop-<label>-YYYYmmdd-HHMMSS`, with -2, -3… if that name is taken."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("._")[:40] or "session"
    stem = f"flametop-{safe}-{stamp}"
    candidate = save_dir / stem
    n = 2
    while any(save_dir.glob(candidate.name + ".*")):
        candidate = save_dir / f"{stem}-{n}"
        n += 1
    return candidate


def ensure_dir(save_dir: Path) -> str | None:
    """Create the save directory (0700); the error text when that fails."""
    try:
        save_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        return f"cannot create {save_dir}: {exc.strerror or exc}; choose another --save-dir"
    if not save_dir.is_dir():
        return f"{save_dir} is not a directory; choose another --save-dir"
    return None


def _same_frame(a: Frame, b: Frame, by_line: bool) -> bool:
    return a.function == b.function and a.file == b.file and (not by_line or a.line == b.line)


def _keep(
    sample: Sample,
    view: View,
    thread_ok: Callable[[str], bool] | None,
    func_ok: Callable[[str], bool] | None,
) -> bool:
    """The tree's selection, per sample: process, thread pattern, zoom path from the
    root, and a function filter keeping stacks that contain a matching function or file."""
    if view.process is not None and process_of(sample)[0] != view.process:
        return False
    if thread_ok is not None and not thread_ok(sample.thread):
        return False
    stack = sample.stack
    if view.zoom:
        if len(stack) < len(view.zoom):
            return False
        if not all(_same_frame(f, z, view.by_line) for f, z in zip(stack, view.zoom, strict=False)):
            return False
    if func_ok is not None:
        return any(func_ok(f.function) or func_ok(f.file) for f in stack)
    return True


def window_profile(capture: Profile, snapshot: Snapshot) -> Profile:
    """The part of `capture` the screen showed: batches inside the snapshot's window,
    with the same process, thread, zoom and function filter as the tree applies."""
    view = snapshot.view
    thread_ok = text_matcher(view.thread) if view.thread else None
    func_ok = text_matcher(view.filter) if view.filter else None
    batches: list[SampleBatch] = []
    for batch in capture.batches:
        if batch.t_end <= snapshot.t_start or batch.t_start >= snapshot.t_end:
            continue
        samples = tuple(s for s in batch.samples if _keep(s, view, thread_ok, func_ok))
        if samples:
            batches.append(replace(batch, samples=samples))
    extra = list(capture.metadata.extra)
    extra.append(("window", f"{snapshot.t_start:.3f}..{snapshot.t_end:.3f}"))
    if view.process is not None:
        extra.append(("process", str(view.process)))
    if view.thread:
        extra.append(("thread_filter", view.thread))
    if view.filter:
        extra.append(("function_filter", view.filter))
    if view.zoom:
        extra.append(("zoom", " > ".join(f.function for f in view.zoom)))
    metadata = replace(capture.metadata, extra=tuple(extra))
    return Profile(metadata=metadata, batches=tuple(batches), readings=(), health=capture.health)


def _write_profile(profile: Profile, path: Path, fmt: str) -> Path:
    from samplers.formats import write_profile

    return write_profile(profile, path, fmt=fmt, overwrite=False)


def save_snapshot(
    base: Path, screen_svg: str, capture: Profile, snapshot: Snapshot | None
) -> SaveResult:
    """Write `<base>.screen.svg`, `<base>.flame.svg` and `<base>.flametop`."""
    written: list[Path] = []
    errors: list[str] = []
    problem = ensure_dir(base.parent)
    if problem:
        return SaveResult((), (problem,))
    jobs: list[tuple[str, object]] = [("screen", None)]
    if snapshot is not None:
        jobs.append(("flame", window_profile(capture, snapshot)))
    jobs.append(("capture", capture))
    for kind, payload in jobs:
        try:
            if kind == "screen":
                path = base.with_name(base.name + ".screen.svg")
                written.append(atomic_write(path, screen_svg.encode("utf-8")))
            elif kind == "flame":
                assert isinstance(payload, Profile)
                path = base.with_name(base.name + ".flame.svg")
                written.append(_write_profile(payload, path, "svg"))
            else:
                path = base.with_name(base.name + ".flametop")
                written.append(_write_profile(capture, path, "flametop"))
        except FlametopError as exc:
            errors.append(exc.message)
        except OSError as exc:
            errors.append(f"cannot write {kind}: {exc.strerror or exc}")
        except Exception as exc:  # noqa: BLE001 - a writer bug must not end the session
            errors.append(f"{kind}: {type(exc).__name__}: {exc}")
    return SaveResult(tuple(written), tuple(errors))


def autosave(save_dir: Path, label: str, capture: Profile) -> SaveResult:
    """SIGHUP / SIGTERM: write `<base>.autosave.flametop` and nothing else."""
    problem = ensure_dir(save_dir)
    if problem:
        return SaveResult((), (problem,))
    base = base_name(save_dir, label)
    path = base.with_name(base.name + ".autosave.flametop")
    try:
        return SaveResult((_write_profile(capture, path, "flametop"),), ())
    except FlametopError as exc:
        return SaveResult((), (exc.message,))
    except Exception as exc:  # noqa: BLE001
        return SaveResult((), (f"autosave: {type(exc).__name__}: {exc}",))
