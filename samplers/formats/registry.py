"""Which format a path is, and reading/writing a Profile in any format.

The format of a file to read is found by its content first (gzip magic, protobuf, JSON
shape, our capture magic, folded text) and by its suffix only when the content does not
tell. The format of a file to write comes from `--format` or the suffix.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType

from samplers.errors import FormatError, OutputError
from samplers.formats.common import GZIP_MAGIC, MAX_DECOMPRESSED, gunzip, gunzip_head
from samplers.formats.fileio import atomic_write
from samplers.model import Profile

FORMATS: tuple[str, ...] = ("svg", "pprof", "speedscope", "folded", "flametop")
READABLE: tuple[str, ...] = ("pprof", "speedscope", "folded", "flametop", "chrometrace")

# Longest suffixes first: `.speedscope.json` before `.json`, `.pb.gz` before `.gz`.
SUFFIXES: tuple[tuple[str, str], ...] = (
    (".speedscope.json", "speedscope"),
    (".pb.gz", "pprof"),
    (".flametop", "flametop"),
    (".collapsed", "folded"),
    (".folded", "folded"),
    (".pprof", "pprof"),
    (".json", "speedscope"),
    (".svg", "svg"),
    (".txt", "folded"),
    (".pb", "pprof"),
)

BOM = b"\xef\xbb\xbf"


def _module(fmt: str) -> ModuleType:
    """The module of format `fmt`, imported on first use: protobuf alone costs every
    start-up 25 ms, and the live screen reads or writes no file until asked."""
    if fmt == "pprof":
        from samplers.formats import pprof

        return pprof
    if fmt == "speedscope":
        from samplers.formats import speedscope

        return speedscope
    if fmt == "folded":
        from samplers.formats import folded

        return folded
    if fmt == "flametop":
        from samplers.formats import capture

        return capture
    if fmt == "chrometrace":
        from samplers.formats import chrometrace

        return chrometrace
    if fmt == "svg":
        from samplers.formats import svg

        return svg
    raise KeyError(fmt)


class _Writers(Mapping[str, Callable[[Profile], bytes]]):
    """format -> its writer, each module imported when its writer is first asked for."""

    def __getitem__(self, fmt: str) -> Callable[[Profile], bytes]:
        if fmt not in FORMATS:
            raise KeyError(fmt)
        write: Callable[[Profile], bytes] = _module(fmt).write
        return write

    def __iter__(self) -> Iterator[str]:
        return iter(FORMATS)

    def __len__(self) -> int:
        return len(FORMATS)


WRITERS: Mapping[str, Callable[[Profile], bytes]] = _Writers()


def _accepted() -> str:
    return ", ".join(sfx for sfx, _ in SUFFIXES)


def format_for_output(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The format to write `path` in: `fmt` when given, else the one its suffix names."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise OutputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return fmt
    name = Path(path).name.lower()
    for suffix, kind in SUFFIXES:
        if name.endswith(suffix):
            return kind
    raise OutputError(
        f"cannot tell the format of {path} from its name; use one of the suffixes "
        f"{_accepted()} or pass --format ({', '.join(FORMATS)})"
    )


def _detect(data: bytes, name: str) -> str:
    head = data[:4096]
    if head[:2] == GZIP_MAGIC:
        # A gzip holds pprof or our capture, or a gzip'd JSON/folded file someone shrank.
        inner = gunzip_head(data)
        try:
            return _detect_plain(inner, name, gzipped=True)
        except FormatError:
            return "pprof"
    return _detect_plain(head, name, gzipped=False)


def _detect_plain(head: bytes, name: str, gzipped: bool) -> str:
    head = head.removeprefix(BOM)
    stripped = head.lstrip()
    if stripped.startswith(_module("flametop").MAGIC_PREFIX):
        return "flametop"
    if stripped.startswith((b"<?xml", b"<svg", b"<!DOCTYPE svg")):
        return "svg"
    if stripped[:1] == b"{":
        return "speedscope"
    if stripped[:1] == b"[":
        return "chrometrace"
    if _looks_like_text(head):
        return "folded"
    if gzipped or name.endswith((".pb", ".pprof", ".pb.gz")) or head[:1] in (b"\x0a", b"\x12"):
        return "pprof"
    raise FormatError(
        "is not a profile flametop can read (not pprof, speedscope, folded or a capture)"
    )


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the 4096-byte edge
            return False
        text = head[: exc.start].decode("utf-8")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t")
    return controls == 0


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_DECOMPRESSED:
            raise FormatError(
                f"{path}: file is larger than {MAX_DECOMPRESSED >> 20} MiB; refusing it"
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise FormatError(f"{path}: is a directory; give a profile file") from None
    except PermissionError:
        raise FormatError(f"{path}: permission denied; make it readable or copy it") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format of an existing file, by content first, then by suffix."""
    p = Path(path)
    data = _read_bytes(p)
    if not data.strip():
        raise FormatError(f"{p}: is empty")
    try:
        return _detect(data, p.name.lower())
    except FormatError as exc:
        raise FormatError(f"{p}: {exc.message}") from None


def parse(data: bytes, fmt: str, sample_type: str | None = None) -> Profile:
    """Read `data` in format `fmt`; raises FormatError (without a file name) on bad input."""
    if data[:2] == GZIP_MAGIC and fmt in ("speedscope", "folded", "chrometrace"):
        data = gunzip(data)
    data = data.removeprefix(BOM)
    if fmt == "pprof":
        profile: Profile = _module(fmt).read(data, sample_type=sample_type)
        return profile
    if fmt in ("speedscope", "folded", "flametop", "chrometrace"):
        profile = _module(fmt).read(data)
        return profile
    if fmt == "svg":
        raise FormatError(
            "is an SVG picture; flametop can write flame graphs but not read them back"
        )
    raise FormatError(f"unknown format {fmt!r}; choose one of {', '.join(READABLE)}")


def read_profile(
    path: str | os.PathLike[str], fmt: str | None = None, sample_type: str | None = None
) -> Profile:
    """Read a profile file of any supported kind. Raises FormatError naming the file."""
    p = Path(path)
    data = _read_bytes(p)
    try:
        if not data.strip():
            raise FormatError("is empty")
        kind = fmt or _detect(data, p.name.lower())
        return parse(data, kind, sample_type=sample_type)
    except FormatError as exc:
        raise FormatError(f"{p}: {exc.message}") from None
    except (ValueError, TypeError, KeyError, IndexError, RecursionError, OverflowError) as exc:
        # A reader bug must still not become a traceback for the user.
        raise FormatError(f"{p}: cannot be read ({type(exc).__name__}: {str(exc)[:100]})") from None


def write_profile(
    profile: Profile,
    path: str | os.PathLike[str],
    fmt: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write `profile` to `path` atomically (mode 0600). Raises OutputError."""
    kind = format_for_output(path, fmt)
    if kind != "flametop":  # a capture keeps every mode; other formats hold one
        profile = profile.in_mode()
    return atomic_write(path, WRITERS[kind](profile), overwrite=overwrite)


__all__ = [
    "FORMATS",
    "READABLE",
    "detect_format",
    "format_for_output",
    "parse",
    "read_profile",
    "write_profile",
]
