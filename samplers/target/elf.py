"""The GNU build-id of the interpreter a process runs: the ELF note that names the exact
binary (debuginfod, symbol servers and crash tools look binaries up by it).

For a shared build (`--enable-shared`) the interpreter's code lives in libpython, so its
note is the one read; otherwise the executable's. Only the program headers are read, so
a stripped binary still answers; anything unreadable gives "".
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

PT_NOTE = 4
NT_GNU_BUILD_ID = 3
_MAX_NOTES = 1 << 16  # bytes of notes read per segment: build-id notes are tiny
_LIBPYTHON = re.compile(r"\s(/\S*libpython\d[\w.]*\.so[\w.]*)$")


def _align4(n: int) -> int:
    return (n + 3) & ~3


def _notes(data: bytes, order: str) -> str:
    """The build-id in one PT_NOTE segment's bytes, hex, or ""."""
    pos = 0
    while pos + 12 <= len(data):
        namesz, descsz, kind = struct.unpack_from(order + "III", data, pos)
        pos += 12
        name = data[pos : pos + namesz]
        pos += _align4(namesz)
        desc = data[pos : pos + descsz]
        pos += _align4(descsz)
        if kind == NT_GNU_BUILD_ID and name.rstrip(b"\0") == b"GNU" and len(desc) == descsz:
            return desc.hex()
    return ""


def build_id_of_file(path: str | Path) -> str:
    """The NT_GNU_BUILD_ID note of an ELF file, lowercase hex; "" when there is none."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if len(head) < 52 or head[:4] != b"\x7fELF":
                return ""
            is64 = head[4] == 2
            order = "<" if head[5] == 1 else ">"
            if is64:
                (phoff,) = struct.unpack_from(order + "Q", head, 0x20)
                phentsize, phnum = struct.unpack_from(order + "HH", head, 0x36)
            else:
                (phoff,) = struct.unpack_from(order + "I", head, 0x1C)
                phentsize, phnum = struct.unpack_from(order + "HH", head, 0x2A)
            if phnum > 4096 or phentsize < (56 if is64 else 32):
                return ""
            f.seek(phoff)
            table = f.read(phentsize * phnum)
            for i in range(phnum):
                entry = table[i * phentsize : (i + 1) * phentsize]
                if len(entry) < phentsize:
                    return ""
                (p_type,) = struct.unpack_from(order + "I", entry, 0)
                if p_type != PT_NOTE:
                    continue
                if is64:
                    (offset,) = struct.unpack_from(order + "Q", entry, 8)
                    (size,) = struct.unpack_from(order + "Q", entry, 32)
                else:
                    (offset,) = struct.unpack_from(order + "I", entry, 4)
                    (size,) = struct.unpack_from(order + "I", entry, 16)
                f.seek(offset)
                found = _notes(f.read(min(size, _MAX_NOTES)), order)
                if found:
                    return found
    except (OSError, struct.error, ValueError, OverflowError):
        return ""
    return ""


def libpython_of(pid: int) -> str:
    """The path of the libpython a process maps, as it sees it, or ""."""
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                m = _LIBPYTHON.search(line.rstrip("\n"))
                if m is not None:
                    return m.group(1)
    except OSError:
        pass
    return ""


def interpreter_build_id(pid: int) -> str:
    """The build-id of the code that runs `pid`'s Python: its libpython's when it maps
    one, else its executable's. Paths go through /proc/PID/root, so a target in another
    mount namespace (a container) is read from its own filesystem."""
    lib = libpython_of(pid)
    if lib:
        for candidate in (f"/proc/{pid}/root{lib}", lib):
            found = build_id_of_file(candidate)
            if found:
                return found
    return build_id_of_file(f"/proc/{pid}/exe")
