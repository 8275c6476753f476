"""Bad files: one FormatError naming the file and what is wrong; never a traceback or hang."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from support_consumers import sample_profile

from samplers.errors import FormatError, OutputError
from samplers.formats import common, detect_format, format_for_output, read_profile, write_profile
from samplers.formats.pprof_schema import message_class


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _descriptor_bytes() -> bytes:
    # A valid protobuf of a different message: a ValueType with large fields.
    vt = message_class("Mapping")(id=7, memory_start=123456, filename=3, has_functions=True)
    return bytes(vt.SerializeToString())


BAD_FILES: dict[str, tuple[bytes, str]] = {
    "empty.pb.gz": (b"", "is empty"),
    "blank.folded": (b"\n\n  \n", "is empty"),
    "truncated.pb.gz": (gzip.compress(b"x" * 5000)[:20], "truncated gzip|corrupt gzip"),
    "random.bin": (os.urandom(4096), ""),
    "not-a-profile.json": (json.dumps({"hello": "world"}).encode(), "not a speedscope profile"),
    "list.json": (b"[1, 2, 3]", "not a chrometrace profile"),
    "deep.json": (b"[" * 100_000 + b"]" * 100_000, "JSON"),
    "other-message.pb": (_descriptor_bytes(), "pprof"),
    "nocount.folded": (b"main;work 3\nmain;other\n", "line 2 has no sample count"),
    "zero.folded": (b'# mode: "cpu"\nmain;work 0\n', "no samples"),
    "zero.speedscope.json": (
        json.dumps({"$schema": "x", "shared": {"frames": []}, "profiles": []}).encode(),
        "no samples",
    ),
    "badindex.speedscope.json": (
        json.dumps(
            {
                "shared": {"frames": [{"name": "a"}]},
                "profiles": [{"type": "sampled", "unit": "none", "samples": [[5]], "weights": [1]}],
            }
        ).encode(),
        "out of range",
    ),
    "capture-v99.flametop": (
        gzip.compress(b'{"format":"flametop-capture","version":99}\n'),
        "version 99 is not supported",
    ),
    "capture-badindex.flametop": (
        gzip.compress(
            b'{"format":"flametop-capture","version":1,"metadata":{}}\n'
            b'{"threads":["t"]}\n'
            b'{"batch":{"t_start":0,"t_end":1,"mode":"cpu","rate":100,"notes":[],"samples":[[0,[3],1]]}}\n'
        ),
        "frame index 3 is out of range",
    ),
    "capture-absurd.flametop": (
        gzip.compress(
            b'{"format":"flametop-capture","version":1,"metadata":{}}\n'
            b'{"threads":["t"]}\n'
            b'{"batch":{"t_start":0,"t_end":1,"mode":"cpu","rate":100,"notes":[],"samples":[[0,[],99999999999999999999]]}}\n'
        ),
        "absurd sample count",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_gives_one_line_naming_the_file(tmp_path: Path, name: str) -> None:
    data, expected = BAD_FILES[name]
    # GIVEN a bad file; WHEN read
    path = _write(tmp_path, name, data)
    with pytest.raises(FormatError) as info:
        read_profile(path)
    # THEN the one-line message names the file and what is wrong
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    if expected:
        assert any(e in message for e in expected.split("|")), message


def test_a_100_mb_line_is_refused_quickly(tmp_path: Path) -> None:
    # GIVEN a folded file whose only line is 100 MB long
    path = _write(tmp_path, "huge.folded", b"a" * (100 << 20) + b" 1\n")
    # THEN reading it fails with a clear message instead of eating memory
    with pytest.raises(FormatError, match="longer than"):
        read_profile(path)


def test_a_gzip_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a cap of 1 MiB (1 GiB in real use) and a gzip that inflates to 8 MiB
    monkeypatch.setattr(common, "MAX_DECOMPRESSED", 1 << 20)
    path = _write(tmp_path, "bomb.pb.gz", gzip.compress(b"\0" * (8 << 20)))
    # THEN it is refused, naming the limit
    with pytest.raises(FormatError, match="decompresses to more than 1 MiB"):
        read_profile(path)


def test_missing_and_unreadable_paths(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="no such file"):
        read_profile(tmp_path / "nope.pb.gz")
    with pytest.raises(FormatError, match="is a directory"):
        read_profile(tmp_path)


def test_unknown_pprof_sample_type_lists_the_available_ones(tmp_path: Path) -> None:
    path = write_profile(sample_profile(), tmp_path / "p.pb.gz")
    with pytest.raises(FormatError, match="available: samples/count, cpu/nanoseconds"):
        read_profile(path, sample_type="alloc_space")
    # AND naming a type that exists reads it
    assert read_profile(path, sample_type="samples").total == 100


def test_output_suffixes_and_unknown_suffix() -> None:
    assert format_for_output("a.svg") == "svg"
    assert format_for_output("a.pb.gz") == "pprof"
    assert format_for_output("a.pprof") == "pprof"
    assert format_for_output("a.pb") == "pprof"
    assert format_for_output("a.speedscope.json") == "speedscope"
    assert format_for_output("a.json") == "speedscope"
    assert format_for_output("a.folded") == "folded"
    assert format_for_output("a.txt") == "folded"
    assert format_for_output("a.collapsed") == "folded"
    assert format_for_output("a.flametop") == "flametop"
    assert format_for_output("a.weird", "svg") == "svg"
    with pytest.raises(OutputError, match=r"\.svg.*--format"):
        format_for_output("a.weird")


def test_content_beats_a_misleading_suffix(tmp_path: Path) -> None:
    # GIVEN a pprof saved as .txt and a capture saved as .json
    profile = sample_profile()
    pprof_path = write_profile(profile, tmp_path / "really-pprof.txt", fmt="pprof")
    capture_path = write_profile(profile, tmp_path / "really-capture.json", fmt="flametop")
    # THEN detection goes by content
    assert detect_format(pprof_path) == "pprof"
    assert detect_format(capture_path) == "flametop"
    assert read_profile(pprof_path).total == read_profile(capture_path).total == 100


def test_unwritable_or_missing_directory_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist; create it"):
        write_profile(sample_profile(), tmp_path / "no" / "such" / "dir.svg")
    with pytest.raises(OutputError, match="is a directory"):
        write_profile(sample_profile(), tmp_path, fmt="svg")


def test_disk_full_is_reported_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OutputError, match="no space left"):
        write_profile(sample_profile(), tmp_path / "p.folded")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(
    os.geteuid() != 0 and not os.access("/", os.W_OK), reason="needs a read-only dir"
)
def test_read_only_place_is_reported(tmp_path: Path) -> None:
    # /proc refuses new files even for root: a real unwritable directory.
    with pytest.raises(OutputError, match="cannot write /proc/"):
        write_profile(sample_profile(), "/proc/flametop-test.svg")


@pytest.mark.parametrize("fmt", ["speedscope", "folded"])
def test_gzipped_text_profiles_and_a_bom_are_read(tmp_path: Path, fmt: str) -> None:
    # GIVEN a text profile someone gzip'd, and one saved with a UTF-8 byte-order mark
    from samplers.formats import registry

    data = registry.WRITERS[fmt](sample_profile())
    gz = _write(tmp_path, "shrunk.gz", gzip.compress(data))
    bom = _write(tmp_path, "bom.txt", b"\xef\xbb\xbf" + data)
    # THEN both are recognised and read
    assert detect_format(gz) == detect_format(bom) == fmt
    assert read_profile(gz).total == read_profile(bom).total == 100
