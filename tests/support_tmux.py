"""A real terminal for the TUI: flametop in a tmux session of a chosen size and
environment, its screen read as text (or with its escape codes), keys sent as a person
would type them, and its exit code kept after it ends."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support_targets import REPO


def tmux(*args: str) -> str:
    out = subprocess.run(["tmux", *args], capture_output=True, text=True, check=True)  # noqa: S603
    return out.stdout


class Pane:
    def __init__(self, name: str) -> None:
        self.name = name

    def screen(self) -> str:
        return tmux("capture-pane", "-p", "-t", self.name)

    def screen_with_codes(self) -> str:
        """The screen with its SGR escape codes (colours, bold, reverse) kept."""
        return tmux("capture-pane", "-p", "-e", "-t", self.name)

    def flag(self, name: str) -> str:
        return tmux("display", "-p", "-t", self.name, f"#{{{name}}}").strip()

    def keys(self, *keys: str) -> None:
        tmux("send-keys", "-t", self.name, *keys)

    def wait_for(self, check: object, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if callable(check) and check(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"screen never showed what was expected:\n{screen}")


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[tuple[Pane, Path]]:
    name = f"flametop-e2e-{uuid.uuid4().hex[:8]}"
    yield Pane(name), tmp_path
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)  # noqa: S603


def start(
    pane: Pane,
    tmp_path: Path,
    flametop_args: list[str],
    term: str = "xterm-256color",
    size: tuple[int, int] = (120, 40),
    env: dict[str, str] | None = None,
) -> Path:
    """Run flametop in a fresh tmux session (120×40 unless told); its exit code lands in
    a file, and the shell stays so the pane can be read after flametop ends."""
    rc_file = tmp_path / "rc"
    cmd = shlex.join([sys.executable, "-m", "tui.cli", *flametop_args])
    script = f"cd {shlex.quote(str(REPO))} && {cmd}; echo $? > {shlex.quote(str(rc_file))}; echo FLAMETOP-ENDED; exec sleep 60"
    options = ["-e", f"TERM={term}"]
    for key, value in (env or {}).items():
        options += ["-e", f"{key}={value}"]
    width, height = size
    tmux(
        "new-session", "-d", "-s", pane.name, "-x", str(width), "-y", str(height),
        *options, "sh", "-c", script,
    )  # fmt: skip
    return rc_file


def top_row(screen: str) -> str:
    lines = screen.splitlines()
    for i, line in enumerate(lines):
        if "%Own" in line and i + 1 < len(lines):
            return lines[i + 1]
    return ""


def wait_rc(rc_file: Path, timeout: float = 15) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if rc_file.exists() and rc_file.read_text().strip():
            return int(rc_file.read_text())
        time.sleep(0.1)
    raise AssertionError("flametop did not exit")
