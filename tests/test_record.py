"""`flametop record` on real targets with the real py-spy: what a user sees in the
summary and what lands in the files."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from support_targets import REPO, flametop_cmd, run_flametop, running_target, target_path

from samplers.formats import read_profile
from samplers.formats.validate import validate_outputs
from samplers.model import Frame, Metadata, Profile, Sample, SampleBatch
from samplers.session.record import hottest

pytestmark = [pytest.mark.pyspy, pytest.mark.slow]


def _shares(profile: Profile) -> dict[str, tuple[float, float]]:
    """function name -> (%own, %total)."""
    total = profile.total
    return {
        hot.label.split(" (")[0]: (100 * hot.own / total, 100 * hot.total / total)
        for hot in hottest(profile, 50)
    }


def test_cpu_75_25_shares_summary_metadata_and_every_format(tmp_path: Path) -> None:
    outs = [
        tmp_path / "p.flametop",
        tmp_path / "p.folded",
        tmp_path / "p.speedscope.json",
        tmp_path / "p.pb.gz",
        tmp_path / "p.svg",
    ]
    with running_target("cpu_75_25") as pid:
        args = ["record", "--pid", str(pid), "-d", "3", "--rate", "250"]
        for out in outs:
            args += ["-o", str(out)]
        result = run_flametop(*args)
    assert result.returncode == 0, result.stderr
    # GIVEN a target spending 75%/25% in two functions WHEN recorded THEN the summary
    # reports duration, coverage, overhead, the hottest functions and the files
    summary = result.stdout
    assert f"recorded pid {pid}" in summary and "duration reached" in summary
    assert re.search(
        r"samples\s+\d+ instants sampled of \d+ asked for \(\d+\.\d% coverage", summary
    )
    assert re.search(r"overhead\s+flametop \+ py-spy used \d+\.\d\d s CPU", summary)
    assert "hot_three_quarters (cpu_75_25.py)" in summary
    for out in outs:
        assert out.exists() and f"wrote     {out}" in summary
        assert out.stat().st_mode & 0o077 == 0  # may hold command lines: private
    profile = read_profile(outs[0]).in_mode()  # a capture keeps idle samples too
    shares = _shares(profile)
    assert shares["hot_three_quarters"][0] == pytest.approx(75, abs=5)
    assert shares["warm_one_quarter"][0] == pytest.approx(25, abs=5)
    meta = profile.metadata
    assert meta.pid == pid and meta.mode == "cpu" and meta.rate == 250
    assert meta.sampler.startswith("py-spy ")
    assert meta.python_version and meta.host and meta.start_time.endswith("Z")
    assert 2.0 < meta.duration_s < 4.5
    assert any("cpu_75_25.py" in part for part in meta.cmdline)
    folded = read_profile(outs[1])
    assert folded.total == profile.total


@dataclass
class Recording:
    pid: int
    result: subprocess.CompletedProcess[str]
    out: Path

    def profile(self) -> Profile:
        return read_profile(self.out).in_mode()  # a capture: the mode recorded


# name -> (target, extra record options); recorded a group at a time to keep the suite
# short. The idle sleeper goes alone: on two busy cores py-spy calls some of its sleeping
# samples active, which is the machine's noise, not what the test is about.
GROUPS: tuple[dict[str, tuple[str, tuple[str, ...]]], ...] = (
    {
        "sleeper-cpu": ("sleeper", ()),
        "sleeper-wall": ("sleeper", ("--mode", "wall")),
    },
    {
        "recursion": ("recursion", ()),
        "threads": ("named_threads", ("--threads",)),
        "unicode": ("unicode_names", ("--threads",)),
        "subprocesses": ("spawner", ("--subprocesses",)),
    },
)


def _record_group(group: dict[str, tuple[str, tuple[str, ...]]], tmp: Path) -> dict[str, Recording]:
    """Every target of `group` recorded for 2 s by its own `flametop record`, at once."""
    with ExitStack() as stack:
        pids = {
            name: stack.enter_context(running_target(target, settle=0.8))
            for name, (target, _) in group.items()
        }
        procs = {}
        for name, (_, extra) in group.items():
            out = tmp / f"{name}.flametop"
            argv = ["record", "--pid", str(pids[name]), "-d", "2", "-o", str(out), *extra]
            if name == "unicode":
                argv += ["-o", str(tmp / "unicode.folded")]
            procs[name] = (
                subprocess.Popen(  # noqa: S603
                    flametop_cmd(*argv),
                    cwd=REPO,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
                out,
            )
        recordings = {}
        for name, (proc, out) in procs.items():
            stdout, stderr = proc.communicate(timeout=60)
            result = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
            recordings[name] = Recording(pids[name], result, out)
    return recordings


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Recording]]:
    tmp = tmp_path_factory.mktemp("recorded")
    recordings: dict[str, Recording] = {}
    for group in GROUPS:
        recordings.update(_record_group(group, tmp))
    yield recordings


def _ok(recording: Recording) -> Profile:
    assert recording.result.returncode == 0, recording.result.stderr
    assert "Traceback" not in recording.result.stderr
    return recording.profile()


def test_sleeper_cpu_mode_sees_little_wall_mode_sees_the_sleep(
    recorded: dict[str, Recording],
) -> None:
    cpu_profile = _ok(recorded["sleeper-cpu"])
    wall_profile = _ok(recorded["sleeper-wall"])
    assert wall_profile.metadata.mode == "wall"
    assert wall_profile.total > 100
    # on an idle machine cpu mode sees a few samples to wall mode's ~200; a machine with
    # more runnable processes than cores makes py-spy call some sleeping samples active
    assert cpu_profile.total < wall_profile.total / 3, (cpu_profile.total, wall_profile.total)
    assert _shares(wall_profile)["nap"][0] > 90


def test_recursion_totals_never_exceed_100_percent(recorded: dict[str, Recording]) -> None:
    profile = _ok(recorded["recursion"])
    shares = _shares(profile)
    assert all(total <= 100.0 for _, total in shares.values())
    assert shares["recurse"][1] > 90
    assert max(len(s.stack) for s in profile.merged()) >= 50
    for line in recorded["recursion"].result.stdout.splitlines():
        if "recurse (" in line:
            assert float(line.split()[1]) <= 100.0


def test_thread_names_appear_with_threads(recorded: dict[str, Recording]) -> None:
    profile = _ok(recorded["threads"])
    by_thread: dict[str, set[str]] = {}
    for sample in profile.merged():
        by_thread.setdefault(sample.thread, set()).update(f.function for f in sample.stack)
    assert "crunch_alpha" in by_thread["cruncher-alpha"]
    assert "crunch_beta" in by_thread["cruncher-beta"]
    # the per-thread root frame is there because --threads asked for it
    assert "thread (cruncher-alpha)" in by_thread["cruncher-alpha"]


def test_unicode_function_file_and_thread_names_survive(recorded: dict[str, Recording]) -> None:
    profile = _ok(recorded["unicode"])
    frames = {f for s in profile.merged() for f in s.stack}
    assert any(
        f.function == "计算_ünïcode" and f.file.endswith("ünïcode_モジュール.py") for f in frames
    )
    assert any(f.function == "ループ" for f in frames)
    assert "работник-🔥" in {s.thread for s in profile.merged()}
    folded = recorded["unicode"].out.with_suffix(".folded").read_text(encoding="utf-8")
    assert "计算_ünïcode" in folded and "работник-🔥" in folded
    assert "计算_ünïcode" in recorded["unicode"].result.stdout


def test_subprocesses_are_seen_with_subprocesses(recorded: dict[str, Recording]) -> None:
    recording = recorded["subprocesses"]
    profile = _ok(recording)
    assert _shares(profile)["child_burn"][0] > 50
    roots = {s.stack[0].function for s in profile.merged() if s.stack}
    assert any(root.startswith(f"process {recording.pid}:") for root in roots)


def test_started_command_ends_the_recording_when_it_exits(tmp_path: Path) -> None:
    # `python` from PATH: possibly a pyenv shim whose Python is a descendant
    out = tmp_path / "cmd.folded"
    started = time.monotonic()
    result = run_flametop(
        "record", "-d", "20", "-o", str(out), "--", "python", str(target_path("cpu_75_25")), "2"
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 10
    assert "target exited" in result.stdout
    assert "hot_three_quarters" in out.read_text(encoding="utf-8")


def test_ctrl_c_stops_early_and_still_writes(tmp_path: Path) -> None:
    out = tmp_path / "int.flametop"
    with running_target("cpu_75_25") as pid:
        proc = subprocess.Popen(  # noqa: S603
            flametop_cmd("record", "--pid", str(pid), "-d", "60", "-o", str(out)),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(2.5)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0, stderr
    assert "stopped by you" in stdout
    assert read_profile(out).total > 50


def test_hottest_counts_a_recursive_function_once_per_stack() -> None:
    rec = Frame("recurse", "r.py", 5)
    leaf = Frame("bottom", "r.py", 2)
    batch = SampleBatch(
        0.0,
        1.0,
        (
            Sample("", (Frame("main", "r.py", 9), rec, rec, rec, leaf), 3),
            Sample("", (Frame("main", "r.py", 9), Frame("recurse", "r.py", 6)), 1),
        ),
    )
    top = {h.label: h for h in hottest(Profile(Metadata(), (batch,)), 5)}
    assert top["recurse (r.py)"].total == 4  # lines differ, the function is one
    assert top["recurse (r.py)"].own == 1
    assert top["bottom (r.py)"].own == 3
    assert list(top)[0] == "bottom (r.py)"  # ranked by own samples


def test_outputs_take_format_from_suffix_or_in_order_from_format(tmp_path: Path) -> None:
    specs = validate_outputs(
        [str(tmp_path / "a.out"), str(tmp_path / "b.pb.gz")], ["svg"], force=False
    )
    assert [s.fmt for s in specs] == ["svg", "pprof"]
