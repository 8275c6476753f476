"""Reader for py-spy's `--format chrometrace`: a JSON array of `B`/`E` events per thread.

Each stretch of time between two events of a thread is charged to the stack open on that
thread. py-spy only emits events when a stack changes, and its sample times jitter, so the
number of samples cannot be recovered; time can. Times become counts of milliseconds
(rate 1000 Hz), so shares and seconds are right whatever rate the file was recorded at.
A root frame `thread (ID): NAME` with no file (py-spy's `--threads`) names the thread.
"""

from __future__ import annotations

import json
import math
import re

from samplers.errors import FormatError
from samplers.formats.common import (
    MAX_COUNT,
    MAX_DEPTH,
    intern_frame,
    metadata_from_dict,
    single_batch_profile,
)
from samplers.model import Frame, Profile, Sample, Stack

_THREAD = re.compile(r"^thread \((?:0x[0-9a-fA-F]+|\d+)\)(?:: ?(?P<name>.*))?$")


def read(data: bytes) -> Profile:
    try:
        events = json.loads(data)
    except RecursionError:
        raise FormatError("is JSON nested too deeply to be a profile") from None
    except ValueError as exc:
        raise FormatError(f"is not valid JSON ({str(exc)[:80]})") from None
    if isinstance(events, dict) and isinstance(events.get("traceEvents"), list):
        events = events["traceEvents"]
    if not isinstance(events, list):
        raise FormatError("is JSON but not a chrometrace profile (no event list)")
    cache: dict[tuple[str, str, int], Frame] = {}
    open_stacks: dict[str, list[Frame]] = {}
    last_ts: dict[str, float] = {}
    spent: dict[tuple[str, Stack], float] = {}
    for n, e in enumerate(events):
        if not isinstance(e, dict) or e.get("ph") not in ("B", "E"):
            if isinstance(e, dict) and isinstance(e.get("ph"), str):
                continue  # other event kinds (metadata, counters) carry no stacks
            raise FormatError(
                f"is a JSON list but not a chrometrace profile (event {n} is not an event)"
            )
        ts = e.get("ts")
        if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not math.isfinite(ts):
            raise FormatError(f"event {n} has no numeric ts")
        tid = str(e.get("pid", "")) + "/" + str(e.get("tid", ""))
        stack = open_stacks.setdefault(tid, [])
        prev = last_ts.get(tid)
        if prev is not None and stack and ts > prev:
            key = (tid, tuple(stack))
            spent[key] = spent.get(key, 0.0) + (ts - prev)
        last_ts[tid] = ts
        if e["ph"] == "B":
            if len(stack) >= MAX_DEPTH:
                raise FormatError(f"event {n}: stack deeper than {MAX_DEPTH} frames")
            args = e.get("args")
            args = args if isinstance(args, dict) else {}
            file = args.get("filename")
            line = args.get("line")
            ok_line = isinstance(line, int) and not isinstance(line, bool) and 0 < line < 1 << 31
            stack.append(
                intern_frame(
                    cache,
                    str(e.get("name", "?")),
                    file if isinstance(file, str) else "",
                    line if ok_line and isinstance(line, int) else 0,
                )
            )
        elif stack:
            stack.pop()
    if not spent:
        raise FormatError("contains no samples")
    period = 1000.0  # µs: one count per millisecond
    samples: list[Sample] = []
    for (tid, open_frames), d in spent.items():
        thread = ""
        frames: Stack = open_frames
        if frames and not frames[0].file:
            m = _THREAD.match(frames[0].function)
            if m is not None:
                thread = m.group("name") or frames[0].function
                frames = frames[1:]
        count = round(d / period)
        if count > MAX_COUNT:
            raise FormatError("absurd event times")
        samples.append(Sample(thread or f"tid {tid.split('/')[-1]}", frames, max(1, count)))
    threads = {s.thread for s in samples}
    if len(threads) == 1:
        samples = [
            Sample("" if s.thread.startswith("tid ") else s.thread, s.stack, s.count)
            for s in samples
        ]
    return single_batch_profile(samples, metadata_from_dict({}, "chrometrace"), rate=1e6 / period)
