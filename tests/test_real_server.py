"""flametop on a real pre-fork server under load (tests/targets/prefork_server.py: an idle
master, four forked workers, a dozen framework layers over the handler), as an on-call
engineer would point it at one: the workers' time must be found, per process."""

from __future__ import annotations

from pathlib import Path

import pytest
from support_server import prefork_server
from support_targets import run_flametop

from samplers.formats import read_profile
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
