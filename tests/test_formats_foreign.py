"""Files written by other tools: py-spy (raw, --threads, --nolineno, --subprocesses,
speedscope, chrometrace), Go's runtime/pprof, `go tool pprof -proto`, and hand-built
speedscope/pprof variants (evented profiles, several sample types, mappings, inlining)."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest
from support_consumers import (
    find_go,
    find_pyspy,
    go_cpu_profile,
    go_pprof,
    pyspy_record,
    start_pyspy_target,
)

from samplers.formats import detect_format, read_profile
from samplers.formats.pprof_schema import ProfileMessage
from samplers.model import Profile

DATA = Path(__file__).parent / "data"

RUNS = {
    "raw-threads.txt": ("raw", "--threads"),
    "raw-nolineno.txt": ("raw", "--nolineno"),
    "raw-subprocesses.txt": ("raw", "--subprocesses", "--threads"),
    "raw-plain.txt": ("raw",),
    "pyspy.speedscope.json": ("speedscope",),
    "chrometrace.json": ("chrometrace", "--threads"),
}


@pytest.fixture(scope="module")
def pyspy_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if find_pyspy() is None:
        pytest.skip("py-spy not found (it is a dependency: `make venv`)")
    tmp = tmp_path_factory.mktemp("pyspy")
    target = start_pyspy_target(tmp, seconds=3.5)
    try:
        time.sleep(0.6)  # let it import and start its thread and child
        runs = {
            name: pyspy_record(target.pid, tmp / name, args[0], *args[1:])
            for name, args in RUNS.items()
        }
        outputs = {name: run.communicate(timeout=30)[0] for name, run in runs.items()}
    finally:
        target.kill()
        target.wait()
    failed = {n: o for n, run in runs.items() if run.returncode != 0 for o in [outputs[n]]}
    if failed and all("ermission" in o or "not permitted" in o for o in failed.values()):
        pytest.skip(f"py-spy may not attach here: {next(iter(failed.values())).strip()[:200]}")
    assert not failed, failed
    return {name: tmp / name for name in RUNS}


def _functions(profile: Profile) -> set[str]:
    return {f.function for s in profile.merged() for f in s.stack}


def _threads(profile: Profile) -> set[str]:
    return {s.thread for s in profile.merged()}


def test_pyspy_raw_with_threads(pyspy_files: dict[str, Path]) -> None:
    p = read_profile(pyspy_files["raw-threads.txt"])
    assert detect_format(pyspy_files["raw-threads.txt"]) == "folded"
    assert {"hot", "cold", "計算", "worker"} <= _functions(p)
    # the thread root frame became the thread, even with `;` inside the thread name
    assert {"MainThread", "Worker;One"} <= _threads(p)
    assert not any(f.function.startswith("thread (") for s in p.merged() for f in s.stack)
    assert all(f.line > 0 for s in p.merged() for f in s.stack)


def test_pyspy_raw_without_line_numbers(pyspy_files: dict[str, Path]) -> None:
    p = read_profile(pyspy_files["raw-nolineno.txt"])
    assert "hot" in _functions(p)
    assert all(f.line == 0 for s in p.merged() for f in s.stack)
    assert any(f.file.endswith("busy_target.py") for s in p.merged() for f in s.stack)


def test_pyspy_raw_with_subprocesses(pyspy_files: dict[str, Path]) -> None:
    p = read_profile(pyspy_files["raw-subprocesses.txt"])
    threads = _threads(p)
    # both the parent and the child (whose command line holds `;`) appear as processes
    assert len({t.split(" ")[1] for t in threads if t.startswith("process ")}) >= 2, threads
    assert not any(
        '"' in f.function and "import time" in f.function for s in p.merged() for f in s.stack
    )
    assert "hot" in _functions(p)


def test_pyspy_speedscope_with_nulls(pyspy_files: dict[str, Path]) -> None:
    path = pyspy_files["pyspy.speedscope.json"]
    assert b"null" in path.read_bytes()  # py-spy's own quirk, which we must accept
    p = read_profile(path)
    assert detect_format(path) == "speedscope"
    assert {"MainThread", "Worker;One"} <= _threads(p)
    assert p.total >= 50  # 1 s at 100 Hz on 2 busy threads, loosely
    assert p.batches[0].rate == pytest.approx(100.0)


def test_pyspy_chrometrace(pyspy_files: dict[str, Path]) -> None:
    path = pyspy_files["chrometrace.json"]
    p = read_profile(path)
    assert detect_format(path) == "chrometrace"
    assert {"hot", "worker"} <= _functions(p)
    assert "Worker;One" in _threads(p)
    # time is kept as milliseconds: no thread is charged more than the trace's own span
    # (a loaded machine stretches the `-d 1` recording), and 1 s at 100 Hz is far more
    # milliseconds than samples
    assert p.batches[0].rate == 1000.0
    events = json.loads(path.read_text(encoding="utf-8"))
    stamps = [e["ts"] for e in events if isinstance(e.get("ts"), (int, float))]
    span_ms = (max(stamps) - min(stamps)) / 1000.0
    threads = {e.get("tid") for e in events if "ts" in e}
    stacks = len(p.merged())  # each stack's time is rounded to whole milliseconds
    assert 300 <= p.total <= span_ms * len(threads) + stacks


@pytest.mark.parametrize(
    "name",
    [
        "pyspy-raw-threads.txt",
        "pyspy-raw-subprocesses.txt",
        "pyspy-raw-nolineno.txt",
        "pyspy.speedscope.json",
        "pyspy-chrometrace.json",
        "go-cpu.pb.gz",
        "go-reencoded.pb.gz",
    ],
)
def test_committed_real_files_read(name: str) -> None:
    # Files made once by the real tools (see tests/data/README.md): readable without them.
    p = read_profile(DATA / name)
    assert p.total > 0
    assert p.metadata.source_format in ("folded", "speedscope", "chrometrace", "pprof")


@pytest.fixture(scope="module")
def go_profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if find_go() is None:
        pytest.skip("`go` not found: install golang-go")
    tmp = tmp_path_factory.mktemp("go")
    out = tmp / "cpu.pb.gz"
    run = go_cpu_profile(tmp, out)
    assert run.returncode == 0, run.stderr
    return out


def test_go_runtime_pprof_cpu_profile(go_profile: Path) -> None:
    p = read_profile(go_profile)
    assert dict(p.metadata.extra)["sample_type"] == "cpu/nanoseconds"  # not samples/count
    stacks = [[f.function for f in s.stack] for s in p.merged()]
    # mix() was inlined into spin(): the one Location with two Lines became two frames
    assert any(st[-2:] == ["main.spin", "main.mix"] for st in stacks), stacks[:5]
    assert p.batches[0].rate == pytest.approx(100.0)
    assert 1 <= p.total <= 120  # at most 0.6 s of CPU at 100 Hz (less on a busy machine)


def test_go_reencoded_profile_of_go(go_profile: Path, tmp_path: Path) -> None:
    raw = tmp_path / "go.pb"
    out = go_pprof(["-proto", "-output", str(raw), str(go_profile)], tmp_path)
    assert out.returncode == 0, out.stderr
    assert read_profile(raw).total == read_profile(go_profile).total


def _pprof_bytes() -> bytes:
    """A pprof like a heap profiler writes: two sample types, two mappings, inlining."""
    strings = [
        "",
        "alloc_objects",
        "count",
        "alloc_space",
        "bytes",
        "/bin/app",
        "libc.so",
        "inner",
        "outer",
        "app.c",
        "thread_id",
        "malloc",
    ]
    m = ProfileMessage()
    m.string_table.extend(strings)
    m.sample_type.add(type=1, unit=2)
    m.sample_type.add(type=3, unit=4)
    m.mapping.add(id=1, filename=5, has_functions=True)
    m.mapping.add(id=2, filename=6, has_functions=True)
    m.function.add(id=1, name=7, filename=9)
    m.function.add(id=2, name=8, filename=9)
    m.function.add(id=3, name=11, filename=6)
    loc = m.location.add(id=1, mapping_id=1, address=0x1000)
    loc.line.add(function_id=1, line=10)  # inlined callee first ...
    loc.line.add(function_id=2, line=20)  # ... then its caller
    m.location.add(id=2, mapping_id=2, address=0x2000).line.add(function_id=3, line=1)
    m.location.add(id=3, mapping_id=2, address=0x2ABC)  # no line info at all
    s = m.sample.add(location_id=[2, 1], value=[3, 300])
    s.label.add(key=10, num=77)
    m.sample.add(location_id=[3, 1], value=[2, 5000])
    return bytes(m.SerializeToString())


def test_pprof_with_two_sample_types_mappings_and_inlining(tmp_path: Path) -> None:
    path = tmp_path / "heap.pb"
    path.write_bytes(_pprof_bytes())  # raw, not gzip'd
    assert detect_format(path) == "pprof"
    p = read_profile(path)
    # the first type is used when there is no cpu/wall type
    assert p.total == 5
    stacks = {tuple(f.function for f in s.stack): (s.thread, s.count) for s in p.merged()}
    assert stacks[("outer", "inner", "malloc")] == ("77", 3)
    assert stacks[("outer", "inner", "0x2abc")] == ("", 2)
    # another type on request, by name
    assert read_profile(path, sample_type="alloc_space").total == 5300
    gz = tmp_path / "heap.pb.gz"
    gz.write_bytes(gzip.compress(_pprof_bytes()))
    assert read_profile(gz).total == 5


def test_speedscope_evented_and_multiple_profiles(tmp_path: Path) -> None:
    # an evented profile (as speedscope's own importers and other exporters write), in ms,
    # next to a sampled one with unit "none"
    doc = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {
            "frames": [{"name": "main"}, {"name": "a", "file": "a.js", "line": 3}, {"name": "b"}]
        },
        "profiles": [
            {
                "type": "evented",
                "name": "js",
                "unit": "milliseconds",
                "startValue": 0,
                "endValue": 30,
                "events": [
                    {"type": "O", "frame": 0, "at": 0},
                    {"type": "O", "frame": 1, "at": 0},
                    {"type": "C", "frame": 1, "at": 20},
                    {"type": "O", "frame": 2, "at": 20},
                    {"type": "C", "frame": 2, "at": 30},
                    {"type": "C", "frame": 0, "at": 30},
                ],
            },
            {
                "type": "sampled",
                "name": "other",
                "unit": "none",
                "startValue": 0,
                "endValue": 4,
                "samples": [[0, 2], [0]],
                "weights": [3, 1],
            },
        ],
    }
    path = tmp_path / "ev.json"
    path.write_text(json.dumps(doc))
    p = read_profile(path)
    counts = {(s.thread, tuple(f.function for f in s.stack)): s.count for s in p.merged()}
    assert counts[("js", ("main", "a"))] == 20  # 20 ms at one count per ms
    assert counts[("js", ("main", "b"))] == 10
    assert counts[("other", ("main", "b"))] == 3
    assert counts[("other", ("main",))] == 1


def test_austin_collapsed_output() -> None:
    # Made by austin-dist 3.7.0 (`austin -i 10ms -x 1 python busy_target.py`, wall mode):
    # `P<pid>;T<iid>:<tid>;file:function:line;... <µs>`, converted to counts at 100 Hz.
    p = read_profile(DATA / "austin-wall.txt")
    assert p.metadata.source_format == "austin"
    assert p.metadata.rate == 100.0 and p.metadata.mode == "wall"
    frames = {f for s in p.merged() for f in s.stack}
    assert any(f.function == "hot" and f.file.endswith("busy_target.py") and f.line for f in frames)
    assert any(f.file == "<frozen importlib._bootstrap>" for f in frames)
    assert all(s.thread and ":" in s.thread for s in p.merged())
    assert 20 <= p.total <= 400  # about 1.5 s of wall time at 100 Hz on 2 threads
