"""A really full disk (a 64 KiB tmpfs, root only) under the live App: a snapshot is a
notification naming the cause and the app keeps running; an autosave on SIGTERM that
cannot be written is reported, not lost silently; no partial or temporary file stays."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from support_app import ScriptedSampler, second, sync, wait_for
from test_app_pilot import SIZE, header, make_app, shows_samples

from tui.widgets.header import STATE_PAUSED


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(  # noqa: S603
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],  # noqa: S607
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        (mount / "snaps").mkdir()
        with open(mount / "filler", "wb", buffering=0) as filler:
            try:
                while True:  # until the disk is really full
                    filler.write(b"x" * 1024)
            except OSError:
                pass
        yield mount / "snaps"
    finally:
        subprocess.run(["umount", str(mount)], check=False)  # noqa: S603, S607


@sync
async def test_a_snapshot_on_a_full_disk_is_a_notice_and_the_app_goes_on(
    tmp_path: Path, full_disk: Path
) -> None:
    app = make_app(ScriptedSampler([second(i) for i in range(3)]), tmp_path, save_dir=full_disk)
    async with app.run_test(size=SIZE) as pilot:
        await shows_samples(app, 300)
        # WHEN a snapshot is asked for and the disk has no room for it
        await pilot.press("s")
        await wait_for(lambda: any(sev == "error" for sev, _ in app.notices), timeout=10)
        # THEN the notice names the cause and the fix, and keys are still answered
        errors = " ".join(text for sev, text in app.notices if sev == "error")
        assert "no space left" in errors
        await pilot.press("p")
        assert header(app) == STATE_PAUSED
    # AND nothing half-written or temporary was left in the save directory
    assert [p.name for p in full_disk.iterdir() if p.stat().st_size == 0 or ".tmp" in p.name] == []


@sync
async def test_an_autosave_that_cannot_be_written_is_reported(
    tmp_path: Path, full_disk: Path
) -> None:
    app = make_app(ScriptedSampler([second(i) for i in range(3)]), tmp_path, save_dir=full_disk)
    async with app.run_test(size=SIZE):
        await shows_samples(app, 300)
        app._on_signal(signal.SIGTERM)
    # THEN it still exits as told, and says why nothing was saved
    assert app.return_code == 128 + signal.SIGTERM
    assert app.autosaved == ()
    assert app.autosave_errors and "no space left" in app.autosave_errors[0]
    assert list(full_disk.iterdir()) == []
