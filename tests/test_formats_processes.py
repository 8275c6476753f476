"""Exports of several processes (--subprocesses): speedscope has one profile per
(process, thread), pprof a pid and a process label on every sample, folded `--threads`
roots below each process; and a real `record --subprocesses` of a Pool job."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from support_consumers import find_go, go_pprof, speedscope_schema
from support_targets import run_flametop, target_path

from samplers.formats import read_profile, write_profile
from samplers.formats.common import gunzip
from samplers.formats.pprof_schema import ProfileMessage
from samplers.model import Frame, Metadata, Profile, Sample, SampleBatch

PARENT = Frame('process 100:"python job.py"')
CHILD = Frame('process 201:"python job.py --worker"')
WORK = Frame("work", "job.py", 3)
WAIT = Frame("wait", "job.py", 9)


def _two_processes(with_roots: bool = True) -> Profile:
    """A parent (100) and its worker (201), each with a MainThread; the parent also has a
    result-handler thread. With roots as the in-process sampler writes them."""
    parent = (PARENT,) if with_roots else ()
    child = (PARENT, CHILD) if with_roots else ()
    samples = (
        Sample("MainThread", (*parent, WAIT), 10, pid=100),
        Sample("results", (*parent, WAIT), 5, pid=100),
        Sample("MainThread", (*child, WORK), 85, pid=201),
    )
    meta = Metadata(pid=100, cmdline=("python", "job.py"), rate=100.0, mode="wall")
    return Profile(meta, (SampleBatch(0.0, 1.0, samples, "wall", 100.0),))


def _pprof_labels(path: Path) -> list[dict[str, object]]:
    msg = ProfileMessage()
    msg.ParseFromString(gunzip(path.read_bytes()))
    table = list(msg.string_table)
    return [
        {table[lb.key]: (table[lb.str] if lb.str else lb.num) for lb in sm.label}
        for sm in msg.sample
    ]


def test_speedscope_has_one_valid_profile_per_process_and_thread(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema not installed")
    # GIVEN two processes each with a MainThread
    path = write_profile(_two_processes(), tmp_path / "p.speedscope.json")
    # WHEN written as speedscope
    doc = json.loads(path.read_text())
    # THEN each (process, thread) is its own profile, named by pid and thread
    jsonschema.validate(doc, json.loads(speedscope_schema().read_text()))
    names = sorted(p["name"] for p in doc["profiles"])
    assert names == ["pid 100 MainThread", "pid 100 results", "pid 201 MainThread"]
    # ... and reading it back keeps the processes apart
    again = read_profile(path)
    assert sorted((s.pid, s.thread, s.count) for s in again.merged()) == [
        (100, "MainThread", 10),
        (100, "results", 5),
        (201, "MainThread", 85),
    ]


def test_pprof_labels_every_sample_with_its_pid_and_command_line(tmp_path: Path) -> None:
    # GIVEN two processes, once from the in-process sampler and once as py-spy's CLI
    # text gives them (no pid on the sample, only the process roots)
    ours = write_profile(_two_processes(), tmp_path / "ours.pb.gz")
    cli_samples = tuple(
        Sample(s.thread, s.stack, s.count) for s in _two_processes().batches[0].samples
    )
    cli = _two_processes()
    cli = Profile(cli.metadata, (SampleBatch(0.0, 1.0, cli_samples, "wall", 100.0),))
    theirs = write_profile(cli, tmp_path / "cli.pb.gz")
    # WHEN the labels are read
    for path in (ours, theirs):
        labels = _pprof_labels(path)
        # THEN every sample has its pid and its process' command line
        assert sorted((lb["pid"], lb["process"], lb["thread"]) for lb in labels) == [
            (100, "python job.py", "MainThread"),
            (100, "python job.py", "results"),
            (201, "python job.py --worker", "MainThread"),
        ]
    # ... and a one-process profile without roots gets the target's pid and command
    one = Profile(
        Metadata(pid=42, cmdline=("python", "x.py")),
        (SampleBatch(0.0, 1.0, (Sample("MainThread", (WORK,), 3),)),),
    )
    labels = _pprof_labels(write_profile(one, tmp_path / "one.pb.gz"))
    assert labels == [{"thread": "MainThread", "pid": 42, "process": "python x.py"}]


def test_folded_thread_roots_go_below_each_process(tmp_path: Path) -> None:
    # GIVEN two processes with samples that carry no process roots, and with them
    for with_roots in (False, True):
        path = write_profile(_two_processes(with_roots), tmp_path / f"{with_roots}.folded")
        # WHEN written as folded (several threads: thread roots)
        lines = path.read_text().splitlines()
        # THEN every line starts with its process root(s), then its thread's root
        assert all(line.startswith("process ") for line in lines), lines
        child = [ln for ln in lines if "process 201" in ln]
        assert len(child) == 1 and ";thread (MainThread);work (job.py:3) 85" in child[0]
        parent = [ln for ln in lines if "process 201" not in ln]
        assert sorted(re.sub(r"^.*?;thread", "thread", ln) for ln in parent) == [
            "thread (MainThread);wait (job.py:9) 10",
            "thread (results);wait (job.py:9) 5",
        ]


@pytest.mark.slow
def test_record_subprocesses_of_a_pool_job_keeps_every_process(tmp_path: Path) -> None:
    # GIVEN `record --subprocesses` of a real Pool job to speedscope and pprof
    speedscope, pprof = tmp_path / "x.speedscope.json", tmp_path / "x.pb.gz"
    run = run_flametop(
        "record", "--subprocesses", "-d", "3", "--mode", "wall",
        "-o", str(speedscope), "-o", str(pprof),
        "--", sys.executable, str(target_path("pool_job")),
        timeout=90,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    # THEN speedscope has a profile per (process, thread): the workers' MainThreads apart
    names = [p["name"] for p in json.loads(speedscope.read_text())["profiles"]]
    pids = {int(n.split()[1]) for n in names}
    assert len(pids) >= 3, names
    assert sum(1 for n in names if n.endswith(" MainThread")) >= 3, names
    assert all(re.match(r"^pid \d+ ", n) for n in names), names
    # ... and every pprof sample has a pid and the process' command line
    labels = _pprof_labels(pprof)
    assert labels and all(
        lb.get("pid") and "pool_job.py" in str(lb.get("process")) for lb in labels
    )
    assert {lb["pid"] for lb in labels} == pids
    if find_go() is not None:  # and go tool pprof opens it, seeing the labels
        out = go_pprof(["-tags", str(pprof)], tmp_path)
        assert out.returncode == 0, out.stderr
        assert "pid:" in out.stdout and "process:" in out.stdout
