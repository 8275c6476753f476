"""flametop's own capture file (`.flametop`): lossless, what `flametop view` replays.

A gzip'd JSON-lines file. The first line is the header and starts with MAGIC_PREFIX:
    {"format":"flametop-capture","version":1,"metadata":{...every Metadata field...}}
then one line per record, each an object with exactly one key:
    {"frames":[[function,file,line],...]}    frames interned; later lines index them
    {"threads":[name,...]}                  thread names interned the same way
    {"batch":{"t_start":..,"t_end":..,"mode":..,"rate":..,"notes":[..],
              "samples":[[thread_index,[frame_index,... root first],count],...]}}
    a batch with "complete":true (every thread read, idle ones too) has rows
    [thread_index, [frame_index, ...], count, pid, flags] (flags: 1 active, 2 GIL held),
    so `view` can show it in any mode
    {"reading":{...SystemReading fields...}}
    {"health":{...Health fields...}}
Frames and threads lines may repeat; each appends to its table, so a writer can stream.
The reader checks the version, every type and every index, and refuses absurd counts and
anything that inflates past MAX_DECOMPRESSED.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import asdict, fields
from typing import Any

from samplers.errors import FormatError
from samplers.formats.common import (
    GZIP_MAGIC,
    MAX_COUNT,
    MAX_DEPTH,
    FrameIndex,
    check_count,
    gunzip,
)
from samplers.model import (
    MODES,
    Frame,
    Health,
    Metadata,
    ProcessReading,
    Profile,
    Sample,
    SampleBatch,
    Stack,
    SystemReading,
)

MAGIC_PREFIX = b'{"format":"flametop-capture"'
VERSION = 1
_STATES = ("starting", "running", "target-exited", "failed", "stopped")


def _dump(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def _finite(value: float | None) -> float | None:
    return value if value is None or math.isfinite(value) else None


def write(profile: Profile) -> bytes:
    meta = asdict(profile.metadata)
    meta["cmdline"] = list(profile.metadata.cmdline)
    meta["extra"] = [list(kv) for kv in profile.metadata.extra]
    lines = [_dump({"format": "flametop-capture", "version": VERSION, "metadata": meta})]
    frame_ids = FrameIndex()
    thread_ids: dict[str, int] = {}
    for batch in profile.batches:
        new_frames: list[list[object]] = []
        new_threads: list[str] = []
        rows: list[list[object]] = []
        for s in batch.samples:
            if s.thread not in thread_ids:
                thread_ids[s.thread] = len(thread_ids)
                new_threads.append(s.thread)
            ids: list[int] = []
            for f in s.stack:
                i, new = frame_ids(f)
                if new:
                    new_frames.append([f.function, f.file, f.line])
                ids.append(i)
            if batch.complete:
                flags = (1 if s.active else 0) | (2 if s.gil else 0)
                rows.append([thread_ids[s.thread], ids, s.count, s.pid, flags])
            else:
                rows.append([thread_ids[s.thread], ids, s.count])
        if new_frames:
            lines.append(_dump({"frames": new_frames}))
        if new_threads:
            lines.append(_dump({"threads": new_threads}))
        body = {
            "t_start": _finite(batch.t_start) or 0.0,
            "t_end": _finite(batch.t_end) or 0.0,
            "mode": batch.mode,
            "rate": _finite(batch.rate) or 0.0,
            "notes": list(batch.notes),
            "samples": rows,
        }
        if batch.complete:
            body["complete"] = True
        lines.append(_dump({"batch": body}))
    for r in profile.readings:
        lines.append(
            _dump(
                {
                    "reading": {
                        k: _finite(v) if isinstance(v, float) else v for k, v in asdict(r).items()
                    }
                }
            )
        )
    if profile.health is not None:
        h = asdict(profile.health)
        h["errors"] = list(profile.health.errors)
        lines.append(
            _dump({"health": {k: _finite(v) if isinstance(v, float) else v for k, v in h.items()}})
        )
    return gzip.compress(("\n".join(lines) + "\n").encode("ascii"), compresslevel=6, mtime=0)


class _Checker:
    """Type checks that raise FormatError naming the line and field."""

    def __init__(self) -> None:
        self.line = 0

    def fail(self, what: str) -> FormatError:
        return FormatError(f"capture line {self.line}: {what}")

    def num(self, obj: dict[str, Any], key: str, optional: bool = False) -> float | None:
        v = obj.get(key)
        if v is None and optional:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.fail(f"{key} must be a number")
        return float(v)

    def int_(self, obj: dict[str, Any], key: str, optional: bool = False) -> int | None:
        v = obj.get(key)
        if v is None and optional:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(f"{key} must be a whole number")
        return v

    def str_(self, v: object, key: str) -> str:
        if not isinstance(v, str):
            raise self.fail(f"{key} must be a string")
        return v

    def list_(self, v: object, key: str) -> list[Any]:
        if not isinstance(v, list):
            raise self.fail(f"{key} must be a list")
        return v


def _metadata(c: _Checker, raw: object) -> Metadata:
    if not isinstance(raw, dict):
        raise c.fail("metadata must be an object")
    kwargs: dict[str, Any] = {}
    for f in fields(Metadata):
        if f.name not in raw:
            continue
        v = raw[f.name]
        if f.name in ("rate", "duration_s"):
            kwargs[f.name] = c.num(raw, f.name)
        elif f.name == "pid":
            kwargs[f.name] = c.int_(raw, f.name, optional=True)
        elif f.name == "cmdline":
            kwargs[f.name] = tuple(c.str_(a, "cmdline") for a in c.list_(v, "cmdline"))
        elif f.name == "extra":
            pairs = []
            for kv in c.list_(v, "extra"):
                kv = c.list_(kv, "extra")
                if len(kv) != 2:
                    raise c.fail("extra must hold [key, value] pairs")
                pairs.append((c.str_(kv[0], "extra"), c.str_(kv[1], "extra")))
            kwargs[f.name] = tuple(pairs)
        else:
            kwargs[f.name] = c.str_(v, f.name)
    return Metadata(**kwargs)


class _Tables:
    """Frames and stacks read so far, one object per distinct value: a long capture
    repeats the same stacks in every batch, and readers downstream (report, the stack
    tree) key stacks by identity, so sharing them saves hashing frames per sample."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.threads: list[str] = []
        self._frame_of: dict[tuple[str, str, int], Frame] = {}
        self.by_ids: dict[tuple[int, ...], Stack] = {}  # keyed by indexes into frames
        self._by_frames: dict[tuple[int, ...], Stack] = {}  # keyed by the frames' ids

    def add_frame(self, function: str, file: str, line: int) -> None:
        key = (function, file, line)
        frame = self._frame_of.get(key)
        if frame is None:
            frame = self._frame_of[key] = Frame(function, file, line)
        self.frames.append(frame)

    def new_stack(self, c: _Checker, ids: tuple[Any, ...]) -> Stack:
        """The stack for frame indexes not in `by_ids` yet, checked. Indexes stay valid
        once checked (tables only grow); a later key equal to a checked one (JSON `1.0`
        or `true` for 1) names the same frames, so a hit needs no check."""
        if len(ids) > MAX_DEPTH:
            raise c.fail(f"a stack is deeper than {MAX_DEPTH} frames")
        frames = self.frames
        for i in ids:
            if type(i) is not int or not 0 <= i < len(frames):
                raise c.fail(f"frame index {i!r} is out of range")
        stack = tuple(frames[i] for i in ids)
        # Two index lists may name equal frames (a file repeating a frame): one tuple.
        stack = self._by_frames.setdefault(tuple(map(id, stack)), stack)
        self.by_ids[ids] = stack
        return stack


def _batch(c: _Checker, raw: object, tables: _Tables) -> SampleBatch:
    if not isinstance(raw, dict):
        raise c.fail("batch must be an object")
    mode = raw.get("mode")
    if mode not in MODES:
        raise c.fail(f"mode must be one of {', '.join(MODES)}")
    threads = tables.threads
    by_ids = tables.by_ids
    samples: list[Sample] = []
    # The per-sample checks are inlined `type(x) is int` tests: this loop runs once per
    # stored sample (hundreds of thousands in a long capture). JSON gives no int subclass
    # but bool, which `type(...) is int` refuses.
    complete = raw.get("complete", False) is True
    width = 5 if complete else 3
    pid, flags = 0, 1
    for row in c.list_(raw.get("samples"), "samples"):
        if type(row) is not list or len(row) != width:
            raise c.fail(
                "a sample must be [thread_index, [frame_index, ...], count"
                + (", pid, flags]" if complete else "]")
            )
        if complete:
            t, ids, count, pid, flags = row
            if type(pid) is not int or type(flags) is not int or not 0 <= flags <= 3:
                raise c.fail("pid and flags must be integers (flags 0-3)")
        else:
            t, ids, count = row
        if type(t) is not int or not 0 <= t < len(threads):
            raise c.fail(f"thread index {t!r} is out of range")
        if type(ids) is not list:
            raise c.fail("stack must be a list")
        if type(count) is not int or not 0 <= count <= MAX_COUNT:
            count = check_count(count, f"capture line {c.line}")
        key = tuple(ids)
        stack = by_ids.get(key)
        if stack is None:
            stack = tables.new_stack(c, key)
        samples.append(Sample(threads[t], stack, count, pid, bool(flags & 1), bool(flags & 2)))
    notes = tuple(c.str_(n, "notes") for n in c.list_(raw.get("notes", []), "notes"))
    return SampleBatch(
        t_start=c.num(raw, "t_start") or 0.0,
        t_end=c.num(raw, "t_end") or 0.0,
        samples=tuple(samples),
        mode=mode,
        rate=c.num(raw, "rate") or 0.0,
        notes=notes,
        complete=complete,
    )


def _reading(c: _Checker, raw: object) -> SystemReading:
    if not isinstance(raw, dict):
        raise c.fail("reading must be an object")
    return SystemReading(
        t=c.num(raw, "t") or 0.0,
        cpu_percent=c.num(raw, "cpu_percent", True),
        rss_bytes=c.int_(raw, "rss_bytes", True),
        threads=c.int_(raw, "threads", True),
        io_bytes_per_s=c.num(raw, "io_bytes_per_s", True),
        ctx_switches_per_s=c.num(raw, "ctx_switches_per_s", True),
        self_cpu_percent=c.num(raw, "self_cpu_percent", True),
        processes=tuple(_process(c, p) for p in c.list_(raw.get("processes", []), "processes")),
    )


def _process(c: _Checker, raw: object) -> ProcessReading:
    if not isinstance(raw, dict):
        raise c.fail("a process reading must be an object")
    pid = c.int_(raw, "pid")
    assert pid is not None  # not optional: int_ raised otherwise
    return ProcessReading(
        pid=pid,
        cpu_percent=c.num(raw, "cpu_percent", True),
        rss_bytes=c.int_(raw, "rss_bytes", True),
        threads=c.int_(raw, "threads", True),
    )


def _health(c: _Checker, raw: object) -> Health:
    if not isinstance(raw, dict):
        raise c.fail("health must be an object")
    kwargs: dict[str, Any] = {}
    for f in fields(Health):
        if f.name not in raw:
            continue
        if f.name == "errors":
            kwargs[f.name] = tuple(c.str_(e, "errors") for e in c.list_(raw[f.name], "errors"))
        elif f.name == "state":
            if raw[f.name] not in _STATES:
                raise c.fail(f"state must be one of {', '.join(_STATES)}")
            kwargs[f.name] = raw[f.name]
        elif f.name in ("samples", "chunks", "restarts", "late", "sampling_errors"):
            kwargs[f.name] = c.int_(raw, f.name)
        elif f.name == "backend":
            kwargs[f.name] = c.str_(raw[f.name], f.name)
        elif f.name == "idle_unseen":
            if not isinstance(raw[f.name], bool):
                raise c.fail("idle_unseen must be true or false")
            kwargs[f.name] = raw[f.name]
        elif f.name in ("gil_held", "active_threads"):
            kwargs[f.name] = c.num(raw, f.name, True)
        else:
            kwargs[f.name] = c.num(raw, f.name)
    return Health(**kwargs)


def read(data: bytes) -> Profile:
    text_bytes = gunzip(data) if data[:2] == GZIP_MAGIC else data
    if not text_bytes.lstrip().startswith(MAGIC_PREFIX):
        raise FormatError("is not a flametop capture (missing header)")
    c = _Checker()
    tables = _Tables()
    batches: list[SampleBatch] = []
    readings: list[SystemReading] = []
    health: Health | None = None
    metadata = Metadata()
    header_seen = False
    for c.line, raw_line in enumerate(text_bytes.split(b"\n"), start=1):
        if not raw_line.strip():
            continue
        try:
            obj = json.loads(raw_line)
        except (ValueError, RecursionError):
            raise c.fail("is not valid JSON (the file is corrupt or truncated)") from None
        if not isinstance(obj, dict):
            raise c.fail("must be a JSON object")
        if not header_seen:
            header_seen = True
            if obj.get("version") != VERSION:
                raise c.fail(
                    f"capture version {str(obj.get('version'))[:20]} is not supported (this flametop reads version {VERSION}); upgrade flametop"
                )
            metadata = _metadata(c, obj.get("metadata", {}))
            continue
        if len(obj) != 1:
            raise c.fail("a record must have exactly one key")
        key, value = next(iter(obj.items()))
        if key == "frames":
            for f in c.list_(value, "frames"):
                f = c.list_(f, "frame")
                if len(f) != 3 or isinstance(f[2], bool) or not isinstance(f[2], int):
                    raise c.fail("a frame must be [function, file, line]")
                tables.add_frame(c.str_(f[0], "function"), c.str_(f[1], "file"), f[2])
        elif key == "threads":
            tables.threads.extend(c.str_(t, "thread") for t in c.list_(value, "threads"))
        elif key == "batch":
            batches.append(_batch(c, value, tables))
        elif key == "reading":
            readings.append(_reading(c, value))
        elif key == "health":
            health = _health(c, value)
        else:
            raise c.fail(f"unknown record {key[:40]!r}")
    if not header_seen:
        raise FormatError("is empty")
    if metadata.source_format != "flametop":
        from dataclasses import replace

        metadata = replace(metadata, source_format="flametop")
    return Profile(
        metadata=metadata, batches=tuple(batches), readings=tuple(readings), health=health
    )
