"""The icicle on a real deep stack: `flametop top` in a real 80×24 terminal (tmux) on a
server-shaped target whose requests all pass 30 frames of framework before the two
functions that do the work. Reads the screen as a person would."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from support_targets import target_path
from support_tmux import Pane, start, wait_rc

pytestmark = [
    pytest.mark.pyspy,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed"),
]


def icicle(screen: str) -> list[str]:
    lines = screen.splitlines()
    start = next(i for i, line in enumerate(lines) if "icicle" in line)
    return lines[start + 1 :]


def test_at_80x24_the_shared_frames_fold_and_the_icicle_scrolls_to_the_hot_leaf(
    pane: tuple[Pane, Path],
) -> None:
    p, tmp_path = pane
    target = str(target_path("deep_server"))
    rc_file = start(
        p,
        tmp_path,
        ["top", "--save-dir", str(tmp_path), "--", sys.executable, target],
        size=(80, 24),
    )
    # THEN the 29 frames every request passes fold into one row and both hot leaves show
    screen = p.wait_for(
        lambda s: (
            "▸ 29 shared frames: <module> → … 27 … → handle_request" in s and "query_items" in s
        ),
        timeout=20,
    )
    shown = icicle(screen)
    assert shown[0].startswith("all") and "find_emails" in shown[3] and "query_items" in shown[3]
    # WHEN the user goes to the fold row, unfolds it and jumps to the hottest leaf
    p.keys("Tab", "Down")
    p.wait_for(lambda s: any(line.startswith("29 shared frames · ") for line in icicle(s)), 5)
    p.keys("Enter", "End")
    # THEN the icicle scrolled to its last rows, the cursor on find_emails
    screen = p.wait_for(lambda s: "rows 26–33 of 33" in s, timeout=5)
    status = [line for line in icicle(screen) if "rows 26–33 of 33" in line][0]
    assert status.startswith("find_emails")
    assert "dispatch" in "\n".join(icicle(screen)) and "<module>" not in "\n".join(icicle(screen))
    p.keys("q")
    wait_rc(rc_file)
