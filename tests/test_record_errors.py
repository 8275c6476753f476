"""`flametop record` given bad input: each case is one line naming the cause and the fix,
exit code 2 (1 when a run failed midway, with what was collected still written), and
never a traceback."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from support_targets import REPO, run_flametop, running_target, target_path

from samplers.backends.pyspy_cli import PySpySampler
from samplers.backends.pyspy_tool import PYSPY_ENV, find_pyspy
from samplers.errors import NotPythonError

pytestmark = pytest.mark.pyspy


def _one_line_error(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("flametop: ")]
    assert len(lines) >= 1
    assert not [ln for ln in result.stderr.splitlines() if not ln.startswith("flametop: ")]
    return lines[-1]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])  # noqa: S603
    proc.wait()
    return proc.pid


def test_no_such_pid(tmp_path: Path) -> None:
    line = _one_line_error(
        run_flametop("record", "--pid", str(_dead_pid()), "-o", str(tmp_path / "x.svg"))
    )
    assert "no process with pid" in line and "ps" in line
    assert not (tmp_path / "x.svg").exists()


def test_a_process_that_is_not_python(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "30"])  # noqa: S603, S607
    try:
        line = _one_line_error(
            run_flametop("record", "--pid", str(sleeper.pid), "-o", str(tmp_path / "x.svg"))
        )
    finally:
        sleeper.kill()
        sleeper.wait()
    assert "not a Python process" in line


def _python_for_nobody() -> list[str] | None:
    """An interpreter user `nobody` can run with flametop importable, or None."""
    candidates = [sys.executable, "/usr/bin/python3"]
    site = next(Path(sys.prefix, "lib").glob("python3*/site-packages"), None)
    for exe in candidates:
        probe = subprocess.run(  # noqa: S603
            ["runuser", "-u", "nobody", "--", exe, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == str(sys.version_info[:2]):
            return [exe, str(site)] if site else None
    return None


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("runuser") is None, reason="needs root")
def test_no_ptrace_permission_as_an_unprivileged_user() -> None:
    found = _python_for_nobody()
    if found is None:
        pytest.skip("no interpreter runnable by nobody")
    exe, site = found
    # pytest's own tmp directories are private to root: nobody needs one of its own
    workdir = tempfile.TemporaryDirectory(prefix="flametop-nobody-")
    tmp_path = Path(workdir.name)
    tmp_path.chmod(0o777)
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{REPO}:{site}",
        PYSPY_ENV: find_pyspy(),
        "HOME": str(tmp_path),
    }
    pyspy = Path(find_pyspy())
    if not os.access(pyspy, os.X_OK) or not (pyspy.stat().st_mode & stat.S_IXOTH):
        pytest.skip("py-spy not executable by others")
    with running_target("sleeper") as pid:  # a root-owned Python process
        result = subprocess.run(  # noqa: S603
            [
                "runuser",
                "-u",
                "nobody",
                "--",
                "env",
                *(f"{k}={v}" for k, v in env.items()),
                exe,
                "-m",
                "tui.cli",
                "record",
                "--pid",
                str(pid),
                "-o",
                str(tmp_path / "x.svg"),
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
    workdir.cleanup()
    line = _one_line_error(result)
    # THEN the line says whose process it is, the fix, and what still works
    assert "no permission" in line and "belongs to root" in line and "runs as nobody" in line
    for fix in ("sudo", "flametop top -- CMD", "flametop record -- CMD"):
        assert fix in line


def test_pyspy_missing(tmp_path: Path) -> None:
    env = dict(os.environ, **{PYSPY_ENV: str(tmp_path / "no-such-py-spy")})
    with running_target("sleeper") as pid:
        result = run_flametop(
            "record",
            "--sampler",
            "py-spy",
            "--pid",
            str(pid),
            "-o",
            str(tmp_path / "x.svg"),
            env=env,
        )
    line = _one_line_error(result)
    assert "py-spy not found" in line and PYSPY_ENV in line


@pytest.mark.parametrize(
    ("output", "words"),
    [
        ("missing-dir/x.svg", ["does not exist"]),
        ("x.unknown", ["cannot tell the format", "--format"]),
        ("exists.svg", ["exists", "--force"]),
    ],
)
def test_bad_outputs_are_refused_before_sampling(
    tmp_path: Path, output: str, words: list[str]
) -> None:
    (tmp_path / "exists.svg").write_text("keep me")
    with running_target("sleeper") as pid:
        started = time.monotonic()
        result = run_flametop("record", "--pid", str(pid), "-d", "30", "-o", str(tmp_path / output))
        elapsed = time.monotonic() - started
    line = _one_line_error(result)
    for word in words:
        assert word in line
    assert elapsed < 15  # refused up front, not after the 30 s
    assert (tmp_path / "exists.svg").read_text() == "keep me"


def test_unwritable_directory() -> None:
    # /proc refuses new files even to root: a directory nobody can write in
    result = run_flametop("record", "--pid", "1", "-o", "/proc/flametop.svg")
    line = _one_line_error(result)
    assert "cannot write in /proc" in line


def test_command_exiting_before_it_can_be_sampled(tmp_path: Path) -> None:
    result = run_flametop("record", "-o", str(tmp_path / "x.svg"), "--", "true")
    line = _one_line_error(result)
    assert "exited" in line and "before anything was sampled" in line
    assert not (tmp_path / "x.svg").exists()


def test_python_command_exiting_in_the_first_second(tmp_path: Path) -> None:
    out = tmp_path / "x.folded"
    result = run_flametop("record", "-o", str(out), "--", sys.executable, "-c", "pass")
    # GIVEN a Python command that exits at once THEN either nothing was sampled (exit 2,
    # one line) or its few samples are written with a note that the run was short
    if out.exists():
        assert result.returncode == 0, result.stderr
        assert "note      the target exited after" in result.stdout
    else:
        line = _one_line_error(result)
        assert "exited" in line and "before anything was sampled" in line


def test_attached_target_exiting_in_the_first_second(tmp_path: Path) -> None:
    out = tmp_path / "x.folded"
    with running_target("cpu_75_25", "0.6", settle=0.1) as pid:
        result = run_flametop("record", "--pid", str(pid), "-o", str(out))
    # GIVEN a target that exits within a second THEN the line says so; with nothing
    # sampled the exit code is 2 and nothing is written, else 1 and the samples are kept
    if out.exists():
        line = _one_line_error(result, code=1)
        assert f"pid {pid} exited after" in line
    else:
        line = _one_line_error(result, code=2)
        assert "exited" in line or "no process with pid" in line


def test_command_not_found(tmp_path: Path) -> None:
    line = _one_line_error(
        run_flametop("record", "-o", str(tmp_path / "x.svg"), "--", "no-such-command-xyz")
    )
    assert "command not found: no-such-command-xyz" in line


def _crashing_pyspy(tmp_path: Path) -> Path:
    """A py-spy that works for its first run and then crashes every time."""
    script = tmp_path / "py-spy"
    counter = tmp_path / "runs"
    script.write_text(
        "#!/bin/bash\n"
        f'n=$(cat "{counter}" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "{counter}"\n'
        f'if [ "$1" != record ] || [ $n -le 1 ]; then exec "{find_pyspy()}" "$@"; fi\n'
        'echo "Error: simulated crash" >&2; exit 1\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_sampler_failing_midway_keeps_what_it_collected(tmp_path: Path) -> None:
    env = dict(os.environ, **{PYSPY_ENV: str(_crashing_pyspy(tmp_path))})
    out = tmp_path / "partial.folded"
    with running_target("cpu_75_25") as pid:
        result = run_flametop(
            "record", "--sampler", "py-spy", "--pid", str(pid), "-d", "20", "-o", str(out), env=env
        )
    line = _one_line_error(result, code=1)
    assert "simulated crash" in line
    assert "hot_three_quarters" in out.read_text(encoding="utf-8")
    assert f"wrote     {out}" in result.stdout


def test_started_command_is_used_even_through_a_wrapper(tmp_path: Path) -> None:
    # GIVEN a wrapper script that runs Python as its child WHEN recorded THEN the Python
    # process is found and sampled (as with a pyenv shim)
    out = tmp_path / "w.folded"
    script = f'"{sys.executable}" "{target_path("cpu_75_25")}" 2; exit 0'
    result = run_flametop("record", "-d", "10", "-o", str(out), "--", "bash", "-c", script)
    assert result.returncode == 0, result.stderr
    assert "hot_three_quarters" in out.read_text(encoding="utf-8")


def test_a_wrapper_pid_names_its_python_child_at_once(tmp_path: Path) -> None:
    # GIVEN a shell that runs Python as its child (as `sh -c 'python app.py; …'` does)
    script = f"{shlex.quote(sys.executable)} {shlex.quote(str(target_path('sleeper')))} 30; true"
    wrapper = subprocess.Popen(["sh", "-c", script])  # noqa: S603, S607
    try:
        deadline = time.monotonic() + 5
        while not psutil.Process(wrapper.pid).children() and time.monotonic() < deadline:
            time.sleep(0.05)
        child = psutil.Process(wrapper.pid).children()[0].pid
        # WHEN flametop is pointed at the shell
        line = _one_line_error(
            run_flametop("record", "--pid", str(wrapper.pid), "-o", str(tmp_path / "x.svg"))
        )
    finally:
        for proc in psutil.Process(wrapper.pid).children(recursive=True):
            proc.kill()
        wrapper.kill()
        wrapper.wait()
    # THEN the one line names the pid to use instead
    assert f"its child {child} is: use --pid {child}" in line


def test_sampler_start_refuses_a_non_python_process_before_the_screen_opens() -> None:
    # GIVEN a process that is not Python (py-spy's retries used to look like sampling,
    # so `top` opened its screen and only then showed SAMPLER FAILED)
    sleeper = subprocess.Popen(["sleep", "30"])  # noqa: S603, S607
    try:
        sampler = PySpySampler(sleeper.pid)
        # WHEN the sampler starts THEN it raises the classified error at once
        with pytest.raises(NotPythonError):
            sampler.start()
    finally:
        sleeper.kill()
        sleeper.wait()
