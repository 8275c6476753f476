"""A refused attach names its cause on this host and the exact fix: another user's
process, Yama's ptrace_scope, root without CAP_SYS_PTRACE (a container); and says what
still works. Cases this machine can produce run for real; the rest use the facts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from samplers.backends.pyspy_tool import classify_failure
from samplers.errors import PermissionDeniedError
from samplers.target.permissions import AccessFacts, gather, permission_error

ROOT_FULL = AccessFacts(euid=0, target_uid=1000, yama_scope=None, cap_sys_ptrace=True)
STARTED = "`flametop top -- CMD`"


def _line(facts: AccessFacts) -> str:
    error = permission_error(4242, facts)
    assert isinstance(error, PermissionDeniedError)
    assert "\n" not in str(error) and "pid 4242" in str(error)
    return str(error)


def test_yama_scope_1_explains_sudo_sysctl_and_its_risk() -> None:
    # GIVEN an ordinary user, their own process, and Yama ptrace_scope=1
    line = _line(AccessFacts(euid=1000, target_uid=1000, yama_scope=1, cap_sys_ptrace=False))
    # THEN the message names the setting, both fixes, the risk, and what still works
    assert "kernel.yama.ptrace_scope is 1" in line
    assert "sudo" in line and "sysctl kernel.yama.ptrace_scope=0" in line
    assert "read the memory" in line and STARTED in line


def test_yama_scope_2_and_3_say_root_only_and_nothing_at_all() -> None:
    two = _line(AccessFacts(euid=1000, target_uid=1000, yama_scope=2, cap_sys_ptrace=False))
    three = _line(AccessFacts(euid=0, target_uid=0, yama_scope=3, cap_sys_ptrace=True))
    assert "ptrace_scope is 2" in two and "sudo" in two
    assert "ptrace_scope is 3" in three and "reboot" in three


def test_root_without_cap_sys_ptrace_gets_the_container_fixes() -> None:
    line = _line(AccessFacts(euid=0, target_uid=1000, yama_scope=None, cap_sys_ptrace=False))
    assert "CAP_SYS_PTRACE" in line and "--cap-add SYS_PTRACE" in line
    assert 'securityContext.capabilities.add: ["SYS_PTRACE"]' in line and STARTED in line


def test_another_users_process_names_both_users() -> None:
    line = _line(AccessFacts(euid=65534, target_uid=0, yama_scope=None, cap_sys_ptrace=False))
    assert "belongs to root" in line and "runs as nobody" in line
    assert "sudo" in line and STARTED in line


def test_unexplained_refusal_lists_every_fix() -> None:
    line = _line(ROOT_FULL)
    for fix in ("sudo", "ptrace_scope=0", "--cap-add SYS_PTRACE", "securityContext", STARTED):
        assert fix in line


def test_py_spy_stderr_is_classified_with_this_hosts_facts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a host with Yama at 1 (a file standing in for /proc/sys/kernel/yama) and a
    # flametop without CAP_SYS_PTRACE, as an ordinary user on Ubuntu
    yama = tmp_path / "ptrace_scope"
    yama.write_text("1\n")
    monkeypatch.setattr("samplers.target.permissions.YAMA_PATH", yama)
    monkeypatch.setattr("samplers.target.permissions.os.geteuid", lambda: os.getuid() + 1)
    facts = gather(os.getpid())
    assert facts.yama_scope == 1
    # WHEN py-spy fails the way it does there
    stderr = "Error: Failed to get process executable name.\n\nCaused by:\n    0: Permission denied (os error 13)\n"
    monkeypatch.setattr(
        "samplers.target.permissions.gather",
        lambda pid: AccessFacts(facts.euid, facts.euid, facts.yama_scope, False),
    )
    error = classify_failure(os.getpid(), stderr)
    # THEN the Yama explanation is what the user reads
    assert isinstance(error, PermissionDeniedError)
    assert "ptrace_scope is 1" in str(error)


def _as_nobody_python() -> list[str]:
    """A Python owned by user nobody, started directly (no forking wrapper)."""
    exe = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    return ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", exe]


@pytest.mark.pyspy
@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv"
)
def test_root_in_a_container_without_cap_sys_ptrace(tmp_path: Path) -> None:
    # GIVEN a Python process of another user, and flametop run as root with
    # CAP_SYS_PTRACE dropped from every set (as `docker run` without --cap-add)
    target = subprocess.Popen(  # noqa: S603
        [*_as_nobody_python(), "-c", "import time\nwhile True: time.sleep(0.01)"],
        cwd="/",
    )
    drop = ["setpriv", "--inh-caps", "-sys_ptrace", "--bounding-set", "-sys_ptrace", "--"]
    try:
        probe = subprocess.run([*drop, "true"], capture_output=True, check=False)  # noqa: S603
        if probe.returncode != 0:
            pytest.skip("setpriv cannot drop capabilities here")
        cmd = [sys.executable, "-m", "tui.cli", "record", "-o", str(tmp_path / "x.folded")]
        attach = subprocess.run(  # noqa: S603
            [*drop, *cmd, "--pid", str(target.pid)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=Path(__file__).parent.parent,
        )
        # AND the same flametop starting the program itself
        started = subprocess.run(  # noqa: S603
            [*drop, *cmd[:-2], "-o", str(tmp_path / "y.folded"), "-d", "1.5", "--"]
            + [sys.executable, "-c", "while True: sum(range(1000))"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=Path(__file__).parent.parent,
        )
    finally:
        target.kill()
        target.wait()
    # THEN attaching is refused in one line naming the container fixes, exit 2
    assert attach.returncode == 2, attach.stderr
    assert "Traceback" not in attach.stderr
    assert "--cap-add SYS_PTRACE" in attach.stderr and "securityContext" in attach.stderr
    # AND what the message says still works does work
    assert started.returncode == 0, started.stderr
    assert (tmp_path / "y.folded").read_text().strip()
