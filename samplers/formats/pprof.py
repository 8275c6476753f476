"""pprof: gzip-compressed profile.proto, as `go tool pprof` and many profilers read it.

Writing: sample types `samples/count` and `cpu/nanoseconds` (`wall/nanoseconds` in wall
mode), period 1/rate in ns, one Mapping, one Function per (name, file), one Location per
frame, locations leaf first, `thread`, `pid` and `process` (its command line) labels per
sample, metadata as `key: value` comments plus time_nanos/duration_nanos. The pid is the
sampler's, else the one py-spy's `process PID:` root names, else the target's.

Reading: gzip or raw protobuf, any number of sample types (the first cpu/wall type unless
`sample_type` names another), several mappings, inline frames (several Lines in one
Location are expanded, innermost first), `thread`/`thread_id` and `pid` labels.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from samplers.errors import FormatError
from samplers.formats.common import (
    GZIP_MAGIC,
    MAX_COUNT,
    MAX_DEPTH,
    FrameIndex,
    encodable,
    gunzip,
    intern_frame,
    merged,
    metadata_from_dict,
    single_batch_profile,
)
from samplers.formats.pprof_schema import ProfileMessage
from samplers.model import Frame, Profile, Sample
from samplers.processes import process_of

_COMMENT = re.compile(r"^(?P<key>[A-Za-z_][\w.-]*): (?P<value>.*)$", re.S)
_TIME_NS = {"nanoseconds": 1, "microseconds": 1_000, "milliseconds": 1_000_000, "seconds": 10**9}


class _Strings:
    def __init__(self) -> None:
        self.table: list[str] = [""]
        self.index: dict[str, int] = {"": 0}

    def __call__(self, text: str) -> int:
        i = self.index.get(text)
        if i is None:
            i = self.index[text] = len(self.table)
            self.table.append(encodable(text))  # protobuf strings must be valid UTF-8
        return i


def _start_nanos(start_time: str) -> int:
    if not start_time:
        return 0
    try:
        when = datetime.fromisoformat(start_time.replace("Z", "+00:00"))
    except ValueError:
        return 0
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp() * 1e9)


def write(profile: Profile) -> bytes:
    import gzip

    meta = profile.metadata
    rate = meta.rate or (profile.batches[0].rate if profile.batches else 100.0) or 100.0
    period = max(1, round(1e9 / rate))
    mode = meta.mode or (profile.batches[0].mode if profile.batches else "cpu")
    time_type = "wall" if mode == "wall" else "cpu"
    s = _Strings()
    msg: Any = ProfileMessage()
    msg.sample_type.add(type=s("samples"), unit=s("count"))
    msg.sample_type.add(type=s(time_type), unit=s("nanoseconds"))
    msg.period_type.type = s(time_type)
    msg.period_type.unit = s("nanoseconds")
    msg.period = period
    msg.default_sample_type = s(time_type)
    binary = meta.cmdline[0] if meta.cmdline else "python"
    msg.mapping.add(
        id=1, filename=s(binary), has_functions=True, has_filenames=True, has_line_numbers=True
    )
    functions: dict[tuple[str, str], Any] = {}
    locations = FrameIndex()
    thread_key = s("thread")
    pid_key = s("pid")
    process_key = s("process")
    target_cmdline = " ".join(meta.cmdline)
    for sample in merged(profile):
        if sample.count <= 0:
            continue
        ids: list[int] = []
        for frame in reversed(sample.stack):  # leaf first
            index, new = locations(frame)
            loc_id = index + 1
            if new:
                fkey = (frame.function, frame.file)
                func = functions.get(fkey)
                if func is None:
                    name = s(frame.function or "?")
                    func = msg.function.add(
                        id=len(functions) + 1, name=name, filename=s(frame.file)
                    )
                    functions[fkey] = func
                if frame.line and (func.start_line == 0 or frame.line < func.start_line):
                    func.start_line = frame.line  # the first line we saw: an approximation
                loc = msg.location.add(id=loc_id, mapping_id=1)
                loc.line.add(function_id=func.id, line=frame.line)
            ids.append(loc_id)
        out = msg.sample.add(location_id=ids, value=[sample.count, sample.count * period])
        if sample.thread:
            out.label.add(key=thread_key, str=s(sample.thread))
        pid, cmdline = process_of(sample)
        if not pid and meta.pid:  # one process, sampled without --subprocesses
            pid = meta.pid
        if pid == meta.pid and not cmdline:
            cmdline = target_cmdline
        if pid:
            out.label.add(key=pid_key, num=pid)
        if cmdline:
            out.label.add(key=process_key, str=s(cmdline))
    for key, value in meta.as_dict().items():
        msg.comment.append(s(f"{key}: {value}"))
    msg.time_nanos = _start_nanos(meta.start_time)
    msg.duration_nanos = int(max(0.0, meta.duration_s) * 1e9)
    msg.string_table.extend(s.table)
    return gzip.compress(msg.SerializeToString(), compresslevel=6, mtime=0)


def _parse(data: bytes) -> Any:
    if data[:2] == GZIP_MAGIC:
        data = gunzip(data)
    if not data:
        raise FormatError("is empty")
    msg: Any = ProfileMessage()
    try:
        msg.ParseFromString(data)
    except Exception:  # DecodeError, or RecursionError on hostile nesting
        raise FormatError("is not a pprof profile (the protobuf does not decode)") from None
    return msg


def read(data: bytes, sample_type: str | None = None) -> Profile:
    msg = _parse(data)
    table = list(msg.string_table)
    if not table or table[0] != "":
        raise FormatError("is not a pprof profile (string_table[0] must be empty)")

    def text(i: int) -> str:
        if not 0 <= i < len(table):
            raise FormatError(f"string index {i} is out of range (0..{len(table) - 1})")
        return str(table[i])

    types = [(text(t.type), text(t.unit)) for t in msg.sample_type]
    if not types:
        raise FormatError("is not a pprof profile (no sample types)")
    names = [f"{t}/{u}" for t, u in types]
    if sample_type:
        matches = [i for i, (t, _u) in enumerate(types) if sample_type in (t, names[i])]
        if not matches:
            raise FormatError(f"has no sample type {sample_type!r}; available: {', '.join(names)}")
        chosen = matches[0]
    else:
        timed = [i for i, (t, _u) in enumerate(types) if t in ("cpu", "wall")]
        chosen = timed[0] if timed else 0
    unit = types[chosen][1]
    # Time values become sample counts by the period, so counts mean the same in every format.
    divisor = 1
    rate: float | None = None
    if msg.period > 0 and text(msg.period_type.unit) == unit and unit in _TIME_NS:
        divisor = int(msg.period)
        rate = 1e9 / (divisor * _TIME_NS[unit])
    elif unit in _TIME_NS:
        divisor = max(1, 1_000_000 // _TIME_NS[unit])  # no period: count milliseconds
        rate = 1000.0

    cache: dict[tuple[str, str, int], Frame] = {}
    funcs: dict[int, tuple[str, str]] = {}
    for f in msg.function:
        funcs[int(f.id)] = (text(f.name) or text(f.system_name), text(f.filename))
    mappings = {int(m.id): text(m.filename) for m in msg.mapping}
    locs: dict[int, list[Frame]] = {}
    for loc in msg.location:
        frames: list[Frame] = []
        for line in loc.line:  # innermost (inlined) first, the caller last
            if int(line.function_id) not in funcs:
                raise FormatError(f"location {loc.id} names a missing function {line.function_id}")
            name, file = funcs[int(line.function_id)]
            frames.append(intern_frame(cache, name, file, max(0, min(int(line.line), 1 << 31))))
        if not frames:
            where = mappings.get(int(loc.mapping_id), "")
            frames.append(intern_frame(cache, f"0x{int(loc.address):x}", where, 0))
        locs[int(loc.id)] = frames

    thread_keys = {i for i, v in enumerate(table) if v in ("thread", "thread_name")}
    id_keys = {i for i, v in enumerate(table) if v == "thread_id"}
    pid_keys = {i for i, v in enumerate(table) if v == "pid"}
    samples: list[Sample] = []
    for n, sm in enumerate(msg.sample):
        if len(sm.value) != len(types):
            raise FormatError(
                f"sample {n} has {len(sm.value)} values for {len(types)} sample types"
            )
        value = int(sm.value[chosen])
        if value <= 0:
            continue
        count = -(-value // divisor) if divisor > 1 else value
        if count > MAX_COUNT:
            raise FormatError(f"sample {n} has an absurd value {value}")
        if len(sm.location_id) > MAX_DEPTH:
            raise FormatError(f"sample {n} has a stack deeper than {MAX_DEPTH} frames")
        leaf_first: list[Frame] = []
        for loc_id in sm.location_id:
            if int(loc_id) not in locs:
                raise FormatError(f"sample {n} names a missing location {loc_id}")
            leaf_first.extend(locs[int(loc_id)])
        thread = ""
        pid = 0
        for label in sm.label:
            if label.key in thread_keys and label.str:
                thread = text(label.str)
            elif label.key in id_keys and not thread:
                thread = text(label.str) if label.str else str(label.num)
            elif label.key in pid_keys and 0 < label.num < 1 << 31:
                pid = int(label.num)
        samples.append(Sample(thread, tuple(reversed(leaf_first)), count, pid))

    meta: dict[str, str] = {}
    for c in msg.comment:
        m = _COMMENT.match(text(c))
        if m is not None:
            meta[m.group("key")] = m.group("value")
    if "start_time" not in meta and msg.time_nanos > 0:
        try:
            when = datetime.fromtimestamp(msg.time_nanos / 1e9, tz=timezone.utc)
            meta["start_time"] = when.isoformat(timespec="seconds")
        except (OverflowError, OSError, ValueError):
            pass  # an absurd timestamp is not worth refusing the profile for
    if "duration_s" not in meta and msg.duration_nanos > 0:
        meta["duration_s"] = f"{msg.duration_nanos / 1e9:g}"
    if rate and "rate" not in meta:
        meta["rate"] = f"{rate:g}"
    meta.setdefault("sample_type", names[chosen])
    if types[chosen][0] in ("cpu", "wall"):
        meta.setdefault("mode", types[chosen][0])
    return single_batch_profile(samples, metadata_from_dict(meta, "pprof"), rate=rate)
