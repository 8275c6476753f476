"""flametop on a real pre-fork server under load (tests/targets/prefork_server.py: an idle
master, four forked workers, a dozen framework layers over the handler), as an on-call
engineer would point it at one: the workers' time must be found, per process."""

from __future__ import annotations

import re
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest
from support_server import prefork_server
from support_targets import run_flametop
from support_tmux import Pane, start, top_row, wait_rc

from samplers.backends.streaming import StreamingSampler
from samplers.formats import read_profile
from samplers.model import SampleBatch, SamplingOptions
from samplers.session.record import hottest

pytestmark = [pytest.mark.pyspy, pytest.mark.slow]


def test_record_subprocesses_on_a_prefork_master_finds_the_workers_hot_function(
    tmp_path: Path,
) -> None:
    out = tmp_path / "server.flametop"
    # GIVEN a pre-fork server under load WHEN recorded from its master with --subprocesses
    with prefork_server(tmp_path) as server:
        workers = set(server.workers())
        result = run_flametop(
            "record", "--pid", str(server.master), "--subprocesses", "-d", "3", "-o", str(out)
        )
    assert result.returncode == 0, result.stderr
    # AND the summary says its instants add up over the processes, each sampled at the rate
    assert re.search(r"instants sampled \(summed over [5-9] processes\)", result.stdout), (
        result.stdout
    )
    profile = read_profile(out).in_mode()
    # THEN the samples come from the workers, each a process of its own
    pids = {s.pid for b in profile.batches for s in b.samples if s.pid is not None}
    assert len(pids & workers) >= 2, (pids, workers)
    # AND the handler's hot function leads, under the framework's layers
    top = hottest(profile, 5)
    assert top[0].label.startswith("find_emails"), [h.label for h in top]
    stacks = [
        s.stack for s in profile.merged() if any(f.function == "find_emails" for f in s.stack)
    ]
    assert stacks and all(any(f.function == "check_csrf" for f in stack) for stack in stacks), (
        "each request passes through the middleware frames"
    )


def _colour_codes(screen: str) -> set[str]:
    """The SGR parameters on screen that set a colour (bold, reverse, underline do not)."""
    found: set[str] = set()
    for params in re.findall(r"\x1b\[([0-9;:]*)m", screen):
        for p in re.split(r"[;:]", params):
            if p and (30 <= int(p) <= 49 and int(p) not in (39, 49) or 90 <= int(p) <= 107):
                found.add(p)
    return found


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_top_at_80x24_with_no_color_on_a_loaded_server(pane: tuple[Pane, Path]) -> None:
    p, tmp_path = pane
    # GIVEN a pre-fork server under load, and a small terminal with NO_COLOR set
    with prefork_server(tmp_path) as server:
        args = ["top", "--subprocesses", "--pid", str(server.master), "--save-dir", str(tmp_path)]
        rc_file = start(p, tmp_path, args, size=(80, 24), env={"NO_COLOR": "1"})
        # THEN the workers' hot function tops the table on an 80×24 screen
        screen = p.wait_for(lambda s: "find_emails" in top_row(s), timeout=20)
        assert len(screen.splitlines()) <= 24
        assert all(len(line) <= 80 for line in screen.splitlines())
        # AND not one colour code is sent: bold, reverse and underline carry the meaning
        assert _colour_codes(p.screen_with_codes()) == set()
        p.keys("q")
        assert wait_rc(rc_file) == 0


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_top_on_a_prefork_master_scopes_to_one_worker_with_p(pane: tuple[Pane, Path]) -> None:
    p, tmp_path = pane
    # GIVEN flametop top --subprocesses on the master of a loaded pre-fork server, 80×24
    with prefork_server(tmp_path) as server:
        workers = set(server.workers())
        args = ["top", "--subprocesses", "--pid", str(server.master), "--save-dir", str(tmp_path)]
        rc_file = start(p, tmp_path, args, size=(80, 24))
        p.wait_for(lambda s: "find_emails" in top_row(s), timeout=20)
        # WHEN the user opens the process chooser and picks the first process listed
        p.keys("P")
        chooser = p.wait_for(lambda s: "all processes" in s, timeout=10)
        assert sum(str(w) in chooser for w in workers) >= 2, chooser
        p.keys("Down", "Enter")
        # THEN the header and the table name that process, one of the workers, and its
        # hot function still leads
        screen = p.wait_for(lambda s: "process " in s.splitlines()[0], timeout=10)
        chosen = re.search(r"process (\d+)", screen.splitlines()[0])
        assert chosen and int(chosen.group(1)) in workers, screen
        assert "find_emails" in top_row(p.wait_for(lambda s: "find_emails" in top_row(s), 10))
        p.keys("q")
        assert wait_rc(rc_file) == 0


def test_subprocesses_samples_each_loaded_worker_as_often_as_the_idle_master(
    tmp_path: Path,
) -> None:
    # GIVEN a pre-fork server whose four workers are busy serving
    with prefork_server(tmp_path) as server:
        workers = set(server.workers())
        # WHEN the in-process sampler attaches to its master with --subprocesses
        sampler = StreamingSampler(server.master, SamplingOptions(subprocesses=True))
        sampler.start()
        try:
            batches: list[SampleBatch] = []
            end = time.monotonic() + 4.0
            while time.monotonic() < end and not sampler.finished:
                batch = sampler.poll(0.3)
                if batch is not None:
                    batches.append(batch)
        finally:
            sampler.stop()
        health = sampler.health
    # each process's main thread is read once at every instant sampled of that process
    instants: Counter[int] = Counter()
    for batch in batches:
        seen = batch.view("wall")
        assert seen is not None
        for s in seen.samples:
            if s.thread == "MainThread" and s.pid is not None:
                instants[s.pid] += s.count
    # THEN every worker is sampled, and a busy worker (which py-spy must stop and walk)
    # gets about as many instants as the busiest process: each is read on its own
    assert workers <= set(instants), (workers, instants)
    busiest = max(instants.values())
    assert all(instants[w] >= busiest / 3 for w in workers | {server.master}), instants
    # AND the health counts every process's instants, not only the master's, so its
    # coverage speaks for the workers too
    assert health.samples >= sum(instants.values()), (health.samples, instants)
