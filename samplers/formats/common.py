"""Helpers every format module shares: bounded decompression, safe names, metadata
conversion and the limits that keep a hostile file from exhausting memory or time."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import fields

from samplers.errors import FormatError
from samplers.model import MODES, Frame, Metadata, Mode, Profile, Sample, SampleBatch, merge_samples

GZIP_MAGIC = b"\x1f\x8b"
# Refuse to inflate more than this: a gzip bomb stops here with a clear error.
MAX_DECOMPRESSED = 1 << 30
MAX_COUNT = 1 << 48  # a single stack's count above this is absurd (years at 10 kHz)
MAX_DEPTH = 20_000  # frames in one stack
MAX_LINE = 16 << 20  # bytes in one folded line

# C0 controls, DEL and C1 controls become visible "control pictures" (U+2400 block) or
# U+FFFD, so names from a hostile target can never act on a terminal or break a file.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return "\ufffd"


def safe_text(text: str) -> str:
    """`text` with control characters replaced by visible lookalikes (and no lone
    surrogates, which UTF-8 cannot encode)."""
    return _CONTROL.sub(_picture, encodable(text))


_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> str:
    """`text` with lone surrogates (a JSON file may hold "\\ud800") replaced by U+FFFD."""
    if text.isascii():
        return text
    return _SURROGATE.sub("\ufffd", text)


def gunzip(data: bytes, limit: int | None = None) -> bytes:
    """Inflate gzip `data`, refusing to produce more than `limit` bytes."""
    cap = MAX_DECOMPRESSED if limit is None else limit
    out = bytearray()
    inflater = zlib.decompressobj(wbits=31)
    rest = data
    try:
        while True:
            chunk = inflater.decompress(rest, 1 << 20)
            out += chunk
            if len(out) > cap:
                raise FormatError(
                    f"decompresses to more than {cap >> 20} MiB; refusing it (a gzip bomb or not a profile)"
                )
            rest = inflater.unconsumed_tail
            if inflater.eof:
                break
            if not rest and not chunk:
                raise FormatError("truncated gzip data (the file ends early); copy it again")
    except zlib.error as exc:
        raise FormatError(f"corrupt gzip data ({exc})") from None
    return bytes(out)


def gunzip_head(data: bytes, size: int = 4096) -> bytes:
    """The first `size` inflated bytes of gzip `data` (b"" if it cannot be inflated)."""
    try:
        return zlib.decompressobj(wbits=31).decompress(data[: 1 << 16], size)
    except zlib.error:
        return b""


def check_count(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormatError(f"{where}: a count must be a whole number, got {type(value).__name__}")
    if value < 0 or value > MAX_COUNT:
        raise FormatError(f"{where}: absurd sample count {value}")
    return value


def metadata_from_dict(values: Mapping[str, str], source_format: str) -> Metadata:
    """Inverse of Metadata.as_dict: known keys become fields, others go to `extra`."""
    kwargs: dict[str, object] = {}
    extra: list[tuple[str, str]] = []
    names = {f.name for f in fields(Metadata)}
    for key, raw in values.items():
        value = str(raw)
        try:
            if key in ("rate", "duration_s"):
                kwargs[key] = float(value)
            elif key == "pid":
                kwargs[key] = int(value)
            elif key == "cmdline":
                kwargs[key] = tuple(value.split(" ")) if value else ()
            elif key in names and key not in ("extra", "source_format"):
                kwargs[key] = value
            elif key != "source_format":
                extra.append((key, value))
        except ValueError:
            extra.append((key, value))
    kwargs["source_format"] = source_format
    kwargs["extra"] = tuple(extra)
    return Metadata(**kwargs)  # type: ignore[arg-type]


def mode_of(metadata: Metadata, default: Mode = "cpu") -> Mode:
    for mode in MODES:
        if metadata.mode == mode:
            return mode
    return default


def single_batch_profile(
    samples: Iterable[Sample], metadata: Metadata, rate: float | None = None
) -> Profile:
    """A Profile holding one batch, spanning the metadata's duration when known."""
    merged = merge_samples(s for s in samples if s.count > 0)
    if not merged:
        raise FormatError("contains no samples")
    batch = SampleBatch(
        t_start=0.0,
        t_end=max(0.0, metadata.duration_s),
        samples=merged,
        mode=mode_of(metadata),
        rate=rate if rate is not None else (metadata.rate or 100.0),
    )
    return Profile(metadata=metadata, batches=(batch,))


def distinct_threads(profile: Profile) -> list[str]:
    seen: dict[str, None] = {}
    for batch in profile.batches:
        for s in batch.samples:
            seen.setdefault(s.thread, None)
    return list(seen)


def merged(profile: Profile) -> list[Sample]:
    """Profile.merged(), keyed by object identity: Frame's dataclass hash runs in Python
    and dominated writing large profiles. Equal frames that are distinct objects may stay
    apart, which changes no count."""
    counts: dict[tuple[int, str, tuple[int, ...]], int] = {}
    first: dict[tuple[int, str, tuple[int, ...]], Sample] = {}
    for batch in profile.batches:
        for s in batch.samples:
            key = (s.pid, s.thread, tuple(map(id, s.stack)))
            if key in counts:
                counts[key] += s.count
            else:
                counts[key] = s.count
                first[key] = s
    return [Sample(s.thread, s.stack, counts[k], s.pid) for k, s in first.items()]


class FrameIndex:
    """Numbers frames in first-seen order; a fast path by identity, then by value."""

    def __init__(self) -> None:
        self.by_id: dict[int, int] = {}
        self.by_value: dict[Frame, int] = {}
        self.frames: list[Frame] = []

    def __call__(self, frame: Frame) -> tuple[int, bool]:
        """(index, new?) of `frame`."""
        i = self.by_id.get(id(frame))
        if i is not None:
            return i, False
        i = self.by_value.get(frame)
        new = i is None
        if i is None:
            i = self.by_value[frame] = len(self.frames)
            self.frames.append(frame)
        self.by_id[id(frame)] = i
        return i, new


def has_thread_root(sample: Sample) -> bool:
    """True when the stack already starts with a `thread (NAME)` frame (py-spy --threads,
    as the sampler keeps it), so writers must not add a second one."""
    return (
        bool(sample.stack)
        and not sample.stack[0].file
        and sample.stack[0].function.startswith("thread (")
    )


def intern_frame(
    cache: dict[tuple[str, str, int], Frame], function: str, file: str, line: int
) -> Frame:
    key = (function, file, line)
    frame = cache.get(key)
    if frame is None:
        frame = cache[key] = Frame(function, file, line)
    return frame
