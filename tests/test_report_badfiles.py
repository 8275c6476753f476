"""Bad input through the real CLI: one line naming the file and the problem, exit 2, no
traceback, no hang — for `report` (and `view`, which reads files the same way)."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from support_report import cli, hot_profile

from samplers.formats import write_profile
from samplers.model import Metadata, Profile, SampleBatch


def _pprof_bytes(tmp: Path) -> bytes:
    write_profile(hot_profile(3, 1), tmp / "ok.pb.gz")
    return (tmp / "ok.pb.gz").read_bytes()


def _other_message() -> bytes:
    msg = descriptor_pb2.FileDescriptorProto(name="other.proto", package="not.a.profile")
    msg.message_type.add(name="Thing")
    return msg.SerializeToString()


def _zero_samples(path: Path) -> None:
    batch = SampleBatch(1_700_000_000.0, 1_700_000_001.0, (), "cpu", 100.0)
    write_profile(Profile(Metadata(sampler="test"), (batch,)), path)


CASES: dict[str, tuple[str, object]] = {
    # name: (file name, content or a writer)
    "empty": ("empty.pb.gz", b""),
    "whitespace": ("blank.folded", b"  \n\n"),
    "truncated gzip": ("cut.pb.gz", lambda tmp: _pprof_bytes(tmp)[:40]),
    "random bytes": ("noise.bin", random.Random(7).randbytes(5000)),
    "random bytes as pprof": ("noise.pprof", random.Random(8).randbytes(5000)),
    "json not a profile": ("config.json", json.dumps({"name": "x", "items": [1, 2]}).encode()),
    "json array not a trace": ("list.json", b"[1, 2, 3]"),
    "json truncated": ("cut.speedscope.json", b'{"$schema": "https://www.speedscope.app/file'),
    "protobuf of another message": ("other.pb", _other_message()),
    "gzipped protobuf of another message": ("other.pb.gz", gzip.compress(_other_message())),
    "folded line without count": ("nocount.folded", b"main;work 12\nmain;idle\n"),
    "folded with only comments": ("comments.folded", b"# sampler: x\n# rate: 100\n"),
    "zero-sample capture": ("zero.flametop", _zero_samples),
    "svg is not readable": ("pic.svg", b'<?xml version="1.0"?><svg></svg>'),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_file_is_one_line_exit_2(tmp_path: Path, case: str) -> None:
    # GIVEN a bad file
    name, content = CASES[case]
    path = tmp_path / name
    if callable(content):
        made = content(tmp_path) if case != "zero-sample capture" else content(path)
        if isinstance(made, bytes):
            path.write_bytes(made)
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    # WHEN reported
    out = cli("report", str(path), timeout=30)
    # THEN exit 2 with one line that names the file, and no traceback
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("flametop: ") and str(path) in lines[0]
    assert "Traceback" not in out.stderr and out.stdout == ""
    assert len(lines[0]) < 300


def test_baseline_that_is_bad_is_named(tmp_path: Path) -> None:
    good = tmp_path / "good.folded"
    write_profile(hot_profile(3, 1), good)
    bad = tmp_path / "bad.pb.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage")
    out = cli("report", str(good), "--baseline", str(bad))
    assert out.returncode == 2
    assert str(bad) in out.stderr and "Traceback" not in out.stderr


def test_missing_file_is_named(tmp_path: Path) -> None:
    out = cli("report", str(tmp_path / "nope.pb.gz"))
    assert out.returncode == 2
    assert "nope.pb.gz" in out.stderr and "no such file" in out.stderr


@pytest.mark.slow
def test_a_100_mb_line_is_refused_quickly(tmp_path: Path) -> None:
    # GIVEN a "folded" file whose one line is 100 MB long
    path = tmp_path / "huge.folded"
    with path.open("wb") as f:
        chunk = b"frame;" * (1 << 20)
        for _ in range(100 * (1 << 20) // len(chunk)):
            f.write(chunk)
        f.write(b" 1\n")
    # WHEN reported (the timeout is the "no hang" check)
    out = cli("report", str(path), timeout=60)
    # THEN one line, exit 2
    assert out.returncode == 2, out.stderr[-500:]
    assert len(out.stderr.strip().splitlines()) == 1
    assert str(path) in out.stderr and "Traceback" not in out.stderr
