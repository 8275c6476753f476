"""A `top` snapshot names the target's facts, not flametop's own."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from samplers.backends.registry import make_sampler
from tui.commands.top import _metadata

OTHER_PYTHON = Path("/root/.pyenv/versions/3.10.13/bin/python3.10")


@pytest.mark.skipif(not OTHER_PYTHON.exists(), reason="no second Python (pyenv 3.10) here")
def test_a_top_snapshot_records_the_targets_python_not_ours(tmp_path: Path) -> None:
    # GIVEN a Python 3.10 target, in a git checkout (flametop itself runs on 3.11)
    repo = tmp_path / "app"
    repo.mkdir()
    git = shutil.which("git") or "git"
    subprocess.run([git, "init", "-q", str(repo)], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [
            git,
            "-C",
            str(repo),
            "-c",
            "user.email=a@b",
            "-c",
            "user.name=a",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ],
        check=True,
    )
    proc = subprocess.Popen([str(OTHER_PYTHON), "-c", "import time; time.sleep(30)"], cwd=repo)  # noqa: S603
    try:
        time.sleep(0.3)
        meta = _metadata(proc.pid, make_sampler("auto", proc.pid))
    finally:
        proc.kill()
        proc.wait()
    # THEN the metadata has the target's Python version and its git commit
    assert meta.python_version.startswith("3.10"), meta.python_version
    assert len(meta.git_commit) >= 7
    assert meta.pid == proc.pid and meta.sampler.startswith("py-spy")
