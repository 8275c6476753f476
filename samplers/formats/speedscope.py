"""speedscope's JSON file format (https://www.speedscope.app/file-format-schema.json).

Writing: one sampled profile per (process, thread) -- named `pid 123 MainThread` when the
profile holds several processes (--subprocesses), else by the thread -- frames shared, weights in seconds (count / rate)
when the rate is known, else plain sample counts (unit "none"); never a null. Our metadata
rides in a top-level `flametop` object (the schema allows extra keys), and the output is
pure ASCII JSON so no name can carry a raw control character.

Reading: our files, py-spy's (which has `null` where numbers belong), and other exporters'
sampled and evented profiles, one or many. Time-weighted profiles become counts by the
sampling period: 1/rate when the file says, else the smallest weight (py-spy's weights are
all 1/rate); evented profiles count milliseconds the stack was open.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from samplers.errors import FormatError
from samplers.formats.common import (
    MAX_COUNT,
    MAX_DEPTH,
    FrameIndex,
    intern_frame,
    merged,
    metadata_from_dict,
    single_batch_profile,
)
from samplers.model import Frame, Profile, Sample, Stack
from samplers.processes import process_of

SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"
_TIME_UNITS = {"seconds": 1.0, "milliseconds": 1e-3, "microseconds": 1e-6, "nanoseconds": 1e-9}
_PYSPY_THREAD = re.compile(r'^Thread (?:0x[0-9a-fA-F]+|\d+) "(?P<name>.*)"$')
_OUR_PROCESS = re.compile(r"^pid (?P<pid>\d{1,10}) (?P<name>.*)$", re.S)


def write(profile: Profile) -> bytes:
    meta = profile.metadata
    rate = meta.rate or (profile.batches[0].rate if profile.batches else 0.0)
    frames: list[dict[str, Any]] = []
    index = FrameIndex()
    by_thread: dict[tuple[int, str], list[Sample]] = {}
    for sample in merged(profile):
        if sample.count > 0:
            key = (process_of(sample)[0], sample.thread)
            by_thread.setdefault(key, []).append(sample)
    several = len({pid for pid, _ in by_thread}) > 1
    profiles: list[dict[str, Any]] = []
    for (pid, thread), samples in by_thread.items():
        name = thread or "all threads"
        if several:
            name = f"pid {pid} {name}"
        stacks: list[list[int]] = []
        weights: list[float] = []
        for s in samples:
            ids: list[int] = []
            for f in s.stack:
                i, new = index(f)
                if new:
                    entry: dict[str, Any] = {"name": f.function or "?"}
                    if f.file:
                        entry["file"] = f.file
                    if f.line:
                        entry["line"] = f.line
                    frames.append(entry)
                ids.append(i)
            stacks.append(ids)
            weights.append(s.count / rate if rate > 0 else float(s.count))
        profiles.append(
            {
                "type": "sampled",
                "name": name,
                "unit": "seconds" if rate > 0 else "none",
                "startValue": 0,
                "endValue": sum(weights),
                "samples": stacks,
                "weights": weights,
            }
        )
    title = "flametop profile"
    if meta.cmdline:
        title += f": {' '.join(meta.cmdline)}"
    if meta.pid is not None:
        title += f" (pid {meta.pid})"
    doc: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "exporter": f"flametop {meta.flametop_version}".strip(),
        "name": title,
        "activeProfileIndex": 0,
        "flametop": {"metadata": meta.as_dict(), "rate": rate},
        "shared": {"frames": frames},
        "profiles": profiles,
    }
    return json.dumps(doc, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _number(value: object, default: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value) if math.isfinite(value) else default


def _frames(doc: dict[str, Any]) -> list[Frame]:
    shared = doc.get("shared")
    raw = shared.get("frames") if isinstance(shared, dict) else None
    if not isinstance(raw, list):
        raise FormatError("is JSON but not a speedscope profile (no shared.frames list)")
    cache: dict[tuple[str, str, int], Frame] = {}
    out: list[Frame] = []
    for i, f in enumerate(raw):
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            raise FormatError(f"frame {i} has no name")
        file = f.get("file")
        line = _number(f.get("line"))
        out.append(
            intern_frame(
                cache,
                f["name"],
                file if isinstance(file, str) else "",
                int(line) if 0 < line < 1 << 31 else 0,
            )
        )
    return out


def _stack(ids: object, frames: list[Frame], where: str) -> Stack:
    if not isinstance(ids, list) or len(ids) > MAX_DEPTH:
        raise FormatError(f"{where}: a sample must be a list of at most {MAX_DEPTH} frame indices")
    out: list[Frame] = []
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, (int, float)) or i != int(i):
            raise FormatError(f"{where}: frame index {i!r} is not a whole number")
        if not 0 <= int(i) < len(frames):
            raise FormatError(f"{where}: frame index {i} is out of range (0..{len(frames) - 1})")
        out.append(frames[int(i)])
    return tuple(out)


def _sampled(
    p: dict[str, Any], frames: list[Frame], where: str, smallest: list[float]
) -> dict[Stack, float]:
    samples = p.get("samples")
    weights = p.get("weights")
    if not isinstance(samples, list):
        raise FormatError(f"{where}: sampled profile without a samples list")
    if not isinstance(weights, list) or len(weights) != len(samples):
        weights = [1.0] * len(samples)
    out: dict[Stack, float] = {}
    for ids, w in zip(samples, weights, strict=True):
        stack = _stack(ids, frames, where)
        weight = max(0.0, _number(w))
        if weight > 0 and (not smallest or weight < smallest[0]):
            smallest[:] = [weight]
        out[stack] = out.get(stack, 0.0) + weight
    return out


def _evented(p: dict[str, Any], frames: list[Frame], where: str) -> dict[Stack, float]:
    events = p.get("events")
    if not isinstance(events, list):
        raise FormatError(f"{where}: evented profile without an events list")
    out: dict[Stack, float] = {}
    open_frames: list[Frame] = []
    last_at: float | None = None
    for e in events:
        if not isinstance(e, dict) or e.get("type") not in ("O", "C"):
            raise FormatError(f"{where}: an event must be an object with type O or C")
        at = _number(e.get("at"))
        if last_at is not None and open_frames and at > last_at:
            stack = tuple(open_frames)
            out[stack] = out.get(stack, 0.0) + (at - last_at)
        last_at = at
        frame = _stack([e.get("frame")], frames, where)[0]
        if e["type"] == "O":
            if len(open_frames) >= MAX_DEPTH:
                raise FormatError(f"{where}: stack deeper than {MAX_DEPTH} frames")
            open_frames.append(frame)
        elif frame in open_frames:
            # Close the innermost matching frame and anything left open above it.
            del open_frames[len(open_frames) - 1 - open_frames[::-1].index(frame) :]
    return out


def _thread_name(p: dict[str, Any], i: int, count: int) -> tuple[int, str]:
    """(pid, thread name) a profile is named for; pid 0 when the name gives none."""
    name = p.get("name")
    if not isinstance(name, str):
        return 0, "" if count == 1 else f"profile {i}"
    pid = 0
    ours = _OUR_PROCESS.match(name)
    if ours is not None:
        pid, name = int(ours.group("pid")), ours.group("name")
    m = _PYSPY_THREAD.match(name)
    if m is not None:
        return pid, m.group("name")
    return pid, "" if name == "all threads" else name


def read(data: bytes) -> Profile:
    try:
        doc = json.loads(data)
    except RecursionError:
        raise FormatError("is JSON nested too deeply to be a profile") from None
    except ValueError as exc:
        raise FormatError(f"is not valid JSON ({str(exc)[:80]})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("profiles"), list):
        raise FormatError("is JSON but not a speedscope profile (no profiles list)")
    frames = _frames(doc)
    ours = doc.get("flametop")
    ours = ours if isinstance(ours, dict) else {}
    meta_raw = ours.get("metadata")
    meta_dict = {str(k): str(v) for k, v in meta_raw.items()} if isinstance(meta_raw, dict) else {}
    for key in ("exporter", "name"):
        if not meta_dict and isinstance(doc.get(key), str):
            meta_dict[f"speedscope_{key}"] = doc[key]
    metadata = metadata_from_dict(meta_dict, "speedscope")
    rate = _number(ours.get("rate")) or metadata.rate
    weighted: list[tuple[tuple[int, str], str, dict[Stack, float]]] = []
    smallest_time = math.inf  # the smallest single weight of a time-sampled profile, in s
    profiles = doc["profiles"]
    for i, p in enumerate(profiles):
        where = f"profile {i}"
        if not isinstance(p, dict):
            raise FormatError(f"{where} is not an object")
        kind = p.get("type")
        unit = p.get("unit")
        unit_name = unit if isinstance(unit, str) else "none"
        if kind == "sampled":
            smallest: list[float] = []
            stacks = _sampled(p, frames, where, smallest)
            if smallest and unit_name in _TIME_UNITS:
                smallest_time = min(smallest_time, smallest[0] * _TIME_UNITS[unit_name])
        elif kind == "evented":
            stacks = _evented(p, frames, where)
        else:
            raise FormatError(
                f"{where} has unknown type {str(kind)[:40]!r} (expected sampled or evented)"
            )
        weighted.append((_thread_name(p, i, len(profiles)), unit_name, stacks))
    # Time weights become counts by the sampling period: 1/rate when we know it, else the
    # smallest single sample weight, else (evented only) one count per millisecond.
    if rate > 0:
        period_s = 1.0 / rate
    elif math.isfinite(smallest_time):
        period_s = smallest_time
    else:
        period_s = 1e-3
    timed = any(unit in _TIME_UNITS for _, unit, _ in weighted)
    samples: list[Sample] = []
    for (pid, thread), unit_name, stacks in weighted:
        factor = _TIME_UNITS.get(unit_name)
        for stack, w in stacks.items():
            if w <= 0:
                continue
            count = w if factor is None else w * factor / period_s
            n = max(1, round(count)) if count < MAX_COUNT else MAX_COUNT + 1
            if n > MAX_COUNT:
                raise FormatError(f"absurd weight {w} in a profile")
            samples.append(Sample(thread, stack, n, pid))
    return single_batch_profile(samples, metadata, rate=1.0 / period_s if timed else None)
