"""Every reader reads what every writer wrote: same totals, same per-function counts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support_consumers import HOSTILE_NAMES, function_counts, sample_profile

from samplers.formats import read_profile, registry, write_profile
from samplers.formats.folded import SEMICOLON_LOOKALIKE
from samplers.formats.folded import _escape as folded_escape
from samplers.model import Profile

READ_BACK = {
    "flametop": "x.flametop",
    "pprof": "x.pb.gz",
    "speedscope": "x.speedscope.json",
    "folded": "x.folded",
}


def _per_function_by_label(profile: Profile) -> dict[str, int]:
    return function_counts(profile)


@pytest.mark.parametrize("fmt", sorted(READ_BACK))
@pytest.mark.parametrize("threads", [True, False])
def test_each_format_round_trips_totals_and_function_counts(
    tmp_path: Path, fmt: str, threads: bool
) -> None:
    # GIVEN a profile with known counts (two threads or none)
    profile = sample_profile(threads=threads)
    # WHEN it is written in a format and read back, with the format found from content
    path = write_profile(profile, tmp_path / READ_BACK[fmt])
    again = read_profile(path)
    # THEN the totals, the per-function counts and the threads are the same
    assert again.total == profile.total == 100
    assert function_counts(again) == function_counts(profile) == {"hot": 60, "warm": 30, "cold": 10}
    assert {s.thread for s in again.merged()} == {s.thread for s in profile.merged()}
    assert registry.detect_format(path) == fmt


CARRY_METADATA = sorted(set(READ_BACK) - {"folded"})  # folded is `stack count` lines only


@pytest.mark.parametrize("fmt", CARRY_METADATA)
def test_metadata_survives_every_format_that_carries_it(tmp_path: Path, fmt: str) -> None:
    # GIVEN a profile annotated with provenance, the kernel, build-id and branch included
    from dataclasses import replace

    profile = sample_profile()
    meta = replace(
        profile.metadata,
        kernel_release="6.1.0-18-amd64",
        build_id="a7516ae81afc8457cbb59039c47cb6428c978064",
        git_branch="release/2.4",
    )
    profile = Profile(meta, profile.batches)
    # WHEN written and read back
    again = read_profile(write_profile(profile, tmp_path / READ_BACK[fmt]))
    # THEN the metadata a colleague needs is still there
    m = again.metadata
    assert m.pid == 4242
    assert m.cmdline == ("python", "app.py", "--port", "0")
    assert m.host == "testhost"
    assert m.rate == 100.0
    assert m.mode == "cpu"
    assert m.git_commit.startswith("0123456789abcdef")
    assert m.start_time.startswith("2026-11-25T12:00:00")
    assert m.source_format == fmt
    assert m.kernel_release == "6.1.0-18-amd64"
    assert m.build_id == "a7516ae81afc8457cbb59039c47cb6428c978064"
    assert m.git_branch == "release/2.4"


def test_capture_is_lossless(tmp_path: Path) -> None:
    # GIVEN a profile with batches, notes, hostile names, readings and health
    from samplers.model import Health, ProcessReading, SystemReading

    base = sample_profile(hostile=True)
    tree = (ProcessReading(10, 1.5, 1 << 20, 2), ProcessReading(11, 97.0, None, 1))
    profile = Profile(
        metadata=base.metadata,
        batches=base.batches,
        readings=(
            SystemReading(1.0, 12.5, 1 << 20, 3, None, 10.0, 0.5, processes=tree),
            SystemReading(2.0),
        ),
        health=Health(
            rate=100.0,
            coverage=0.98,
            samples=100,
            errors=("boom",),
            state="stopped",
            idle_unseen=True,
        ),
    )
    # WHEN saved as a capture and read back
    again = read_profile(write_profile(profile, tmp_path / "run.flametop"))
    # THEN everything is equal, down to the batch boundaries and notes
    assert again.batches == profile.batches
    assert again.readings == profile.readings
    assert again.health == profile.health
    from dataclasses import replace

    assert again.metadata == replace(profile.metadata, source_format="flametop")


@pytest.mark.parametrize("fmt", sorted(READ_BACK))
def test_hostile_names_survive_or_are_made_safe(tmp_path: Path, fmt: str) -> None:
    # GIVEN frames and threads named with escapes, markup, separators and bidi marks
    profile = sample_profile(hostile=True)
    # WHEN written and read back
    path = write_profile(profile, tmp_path / READ_BACK[fmt])
    again = read_profile(path)
    # THEN the counts are intact and every name is there (folded: made safe, by design)
    assert again.total == profile.total
    names = {s.stack[-1].function for s in again.merged()}
    for hostile in HOSTILE_NAMES:
        if fmt == "folded":
            assert not any(ch in n for n in names for ch in "\x1b\n\r")
            safe = folded_escape(hostile)  # control pictures, U+FFFD for bidi, `;` lookalike
            assert SEMICOLON_LOOKALIKE in folded_escape(";")
            assert any(n.startswith(safe[:3]) for n in names)
        else:
            assert hostile in names
    raw = path.read_bytes()
    if fmt == "folded":
        # no raw control character but the line ends reaches the file
        assert not any(b < 0x20 and b != 0x0A for b in raw)


def test_written_files_are_private_and_never_silently_replaced(tmp_path: Path) -> None:
    # GIVEN a profile written once
    profile = sample_profile()
    path = write_profile(profile, tmp_path / "p.folded")
    # THEN the file is readable by its owner only
    assert (os.stat(path).st_mode & 0o777) == 0o600
    # AND writing again without overwrite is refused, with --force in the message
    from samplers.errors import OutputError

    with pytest.raises(OutputError, match="exists; pass --force"):
        write_profile(profile, path)
    # AND with overwrite it is replaced, leaving no temporary files behind
    write_profile(profile, path, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.folded"]


def test_svg_of_a_profile_holds_every_wide_frame(tmp_path: Path) -> None:
    # GIVEN a profile; WHEN drawn as SVG
    path = write_profile(sample_profile(threads=False), tmp_path / "p.svg")
    text = path.read_text("utf-8")
    # THEN each function is a frame whose title tells samples and percent
    assert "hot (/usr/lib/python3.11/json/encoder.py) — 60 samples (60.00%)" in text
    assert "cold (/venv/lib/python3.11/site-packages/requests/api.py) — 10 samples" in text
    # AND it is not a format we read back, which says so
    from samplers.errors import FormatError

    with pytest.raises(FormatError, match="SVG"):
        read_profile(path, fmt="svg")
    with pytest.raises(FormatError, match="is an SVG picture"):
        read_profile(path)


def test_a_thread_root_frame_from_the_sampler_is_not_doubled(tmp_path: Path) -> None:
    # GIVEN samples whose stacks already start with `thread (NAME)` (py-spy --threads)
    from samplers.formats import folded, svg
    from samplers.model import Frame, Metadata, Sample, SampleBatch

    work = Frame("work", "app.py", 3)
    samples = tuple(Sample(t, (Frame(f"thread ({t})"), work), 5) for t in ("MainThread", "Worker"))
    profile = Profile(Metadata(), (SampleBatch(0, 1, samples),))
    # WHEN written as folded and SVG
    text = folded.write(profile).decode()
    picture = svg.write(profile).decode()
    # THEN each line has one thread root, and the thread is read back
    assert "thread (MainThread);work (app.py:3) 5" in text
    assert "thread (MainThread);thread (MainThread)" not in text
    assert picture.count('data-name="thread (MainThread)"') == 1
    assert {s.thread for s in folded.read(text.encode()).merged()} == {"MainThread", "Worker"}


def test_an_empty_profile_still_writes_every_format(tmp_path: Path) -> None:
    # GIVEN a run that sampled nothing (a sleeper in cpu mode)
    from samplers.model import Metadata, SampleBatch

    empty = Profile(Metadata(mode="cpu"), (SampleBatch(0, 1, ()),))
    # WHEN written in every format, THEN each writes, and the SVG says why it is blank
    for name in [*READ_BACK.values(), "x.svg"]:
        write_profile(empty, tmp_path / name)
    assert "No samples were recorded." in (tmp_path / "x.svg").read_text()
    # AND the capture reads back (the other formats say they hold no samples)
    assert read_profile(tmp_path / "x.flametop").total == 0


def test_lone_surrogates_from_a_json_file_do_not_break_any_writer(tmp_path: Path) -> None:
    # GIVEN names with lone surrogates, as json.loads gives for "\ud800" in a speedscope file
    from samplers.model import Frame, Metadata, Sample, SampleBatch

    frame = Frame("a\ud83d", "\ud800.py", 1)
    sample = Sample("\udfff", (frame,), 3)
    profile = Profile(Metadata(cmdline=("\ud800x",)), (SampleBatch(0, 1, (sample,)),))
    # WHEN written in every format, THEN each file is written and the readable ones read back
    for fmt, name in {**READ_BACK, "svg": "x.svg"}.items():
        path = write_profile(profile, tmp_path / name)
        if fmt != "svg":
            assert read_profile(path).total == 3


def test_folded_output_is_only_stack_count_lines() -> None:
    # GIVEN a profile with metadata, threads and hostile names
    import re

    from samplers.formats import folded

    profile = sample_profile(hostile=True)
    # WHEN written as folded stacks
    lines = folded.write(profile).decode().split("\n")
    # THEN every line is `stack count` (one space, an integer), as flamegraph.pl, inferno
    # and Pyroscope's format=folded take them: no comment, no blank line but the last
    strict = re.compile(r"^[^\n#][^\n]* [0-9]+$")
    assert lines[-1] == ""
    assert lines[:-1] and all(strict.match(line) for line in lines[:-1]), lines[:3]
    assert sum(int(line.rsplit(" ", 1)[1]) for line in lines[:-1]) == profile.total


def test_folded_files_with_metadata_comments_still_read() -> None:
    # GIVEN a folded file as flametop wrote them before (metadata as `# key: "value"`)
    from samplers.formats import folded

    old = b'# pid: "4242"\n# rate: "100"\n# host: "box"\nmain (app.py:1);work (app.py:3) 7\n'
    # WHEN read, THEN the comments give the metadata and the stack its count
    profile = folded.read(old)
    assert profile.total == 7
    assert (profile.metadata.pid, profile.metadata.rate, profile.metadata.host) == (
        4242,
        100.0,
        "box",
    )


def test_folded_writes_each_stack_once_with_its_summed_count_in_a_stable_order() -> None:
    # GIVEN a recording of three 1 s py-spy chunks; each chunk is parsed on its own, so
    # equal frames are distinct objects from one batch to the next (as `record` sees them)
    from samplers.formats import folded
    from samplers.formats.pyspy_raw import parse_raw
    from samplers.model import Metadata, SampleBatch

    chunk = "main (app.py:9);work (app.py:3) 7\nmain (app.py:9);idle (app.py:5) 2\n"
    batches = tuple(
        SampleBatch(float(i), i + 1.0, parse_raw(chunk, keep_thread_frame=False)) for i in range(3)
    )
    profile = Profile(Metadata(pid=4242), batches)
    # WHEN written as folded stacks
    lines = folded.write(profile).decode().splitlines()
    # THEN each stack is one line with the sum over the batches, sorted by stack, and
    # nothing else (no metadata comments)
    assert lines == ["main (app.py:9);idle (app.py:5) 6", "main (app.py:9);work (app.py:3) 21"]
    # AND writing again gives the same bytes
    assert folded.write(profile) == folded.write(profile)


def test_capture_reader_shares_one_tuple_per_stack_across_batches(tmp_path: Path) -> None:
    # GIVEN a capture of many seconds that repeat the same stacks (as every long run does)
    from samplers.backends.synthetic import synthetic_profile

    profile = synthetic_profile(n_stacks=50, seconds=20, threads=2, seed=3)
    # WHEN it is read back
    again = read_profile(write_profile(profile, tmp_path / "run.flametop"))
    # THEN it is equal, and one stack is one tuple object however many batches hold it
    # (report and the stack tree key stacks by identity: no per-sample hashing of frames)
    assert again.batches == profile.batches
    by_value: dict[object, set[int]] = {}
    for batch in again.batches:
        for s in batch.samples:
            by_value.setdefault(s.stack, set()).add(id(s.stack))
    assert len(by_value) == 50
    assert all(len(ids) == 1 for ids in by_value.values())
    # AND equal frames are one object too
    frames = {f for stack in by_value for f in stack}
    assert len({id(f) for stack in by_value for f in stack}) == len(frames)
