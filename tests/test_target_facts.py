"""The provenance a recording carries beyond pid and command line: the kernel release,
the interpreter's GNU build-id and the git branch."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support_targets import running_target

from samplers.target.elf import build_id_of_file, interpreter_build_id, libpython_of
from samplers.target.facts import TargetFacts, git_branch_of


def _readelf_build_id(path: str) -> str:
    done = subprocess.run(  # noqa: S603 - fixed argument list
        ["readelf", "-n", path], capture_output=True, text=True, check=False
    )
    m = re.search(r"Build ID: ([0-9a-f]+)", done.stdout)
    return m.group(1) if m else ""


@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs binutils' readelf")
def test_the_build_id_is_the_one_readelf_reads() -> None:
    # GIVEN this interpreter's binary (and its libpython, for a shared build)
    exe = os.path.realpath(sys.executable)
    lib = libpython_of(os.getpid())
    # WHEN their build-ids are read, THEN each is readelf's
    assert build_id_of_file(exe) == _readelf_build_id(exe)
    if lib:
        assert build_id_of_file(lib) == _readelf_build_id(lib) != ""
    # AND the interpreter's is libpython's when it maps one (the code runs there)
    expected = _readelf_build_id(lib) if lib else _readelf_build_id(exe)
    assert interpreter_build_id(os.getpid()) == expected


def test_files_without_a_build_id_give_an_empty_one(tmp_path: Path) -> None:
    script = tmp_path / "x.py"
    script.write_text("print(1)\n")
    truncated = tmp_path / "trunc"
    truncated.write_bytes(Path(os.path.realpath(sys.executable)).read_bytes()[:100])
    assert build_id_of_file(script) == ""
    assert build_id_of_file(truncated) == ""
    assert build_id_of_file(tmp_path / "missing") == ""


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_branch_is_named_and_empty_when_detached(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(  # noqa: S603 - fixed argument list
            ["git", "-C", str(tmp_path), *args], check=True, capture_output=True
        )

    git("init", "-q", "-b", "feature/upload")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x")
    assert git_branch_of(tmp_path) == "feature/upload"
    git("checkout", "-q", "--detach")
    assert git_branch_of(tmp_path) == ""
    assert git_branch_of(tmp_path / "nowhere") == ""


def test_a_running_targets_facts_name_kernel_build_id_and_branch() -> None:
    # GIVEN a target started from this repository's checkout
    with running_target("sleeper") as pid:
        # WHEN its facts are read
        facts = TargetFacts(pid)
        meta = facts.metadata(
            sampler="x", rate=100, mode="cpu", start_time=1_800_000_000, duration_s=1
        )
    # THEN the metadata names the kernel, the interpreter binary and the branch
    assert meta.kernel_release == os.uname().release
    assert re.fullmatch(r"[0-9a-f]{16,64}", meta.build_id)
    assert meta.build_id == interpreter_build_id(os.getpid())  # same interpreter as ours
    expected_branch = git_branch_of(Path.cwd())
    assert meta.git_branch == expected_branch
    assert {"kernel_release", "build_id"} <= set(meta.as_dict())
