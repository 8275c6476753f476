"""Hostile names from a real target (tests/targets/hostile_names.py) sampled by the real
py-spy: every written format stays well-formed and escaped, `record` and `report` print
no escape sequence, and the live screen shows the names literally."""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest
from support_app import screen_text, sync, wait_for
from support_report import cli
from support_targets import target_path

from samplers.formats import read_profile
from samplers.formats.folded import read as read_folded
from samplers.model import Profile
from tui.commands.view import build_app

pytestmark = pytest.mark.pyspy

OUTPUTS = ("a.svg", "a.folded", "a.speedscope.json", "a.pb.gz", "a.flametop")
# C0 controls but tab/newline/CR, DEL, C1 controls; and the bidi overrides
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _target_module() -> ModuleType:
    """The target's names, without running it (its main() is guarded)."""
    spec = importlib.util.spec_from_file_location("hostile_names", target_path("hostile_names"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOSTILE = _target_module()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One 2.5 s recording of the target into every format; (directory, record stdout)."""
    out = tmp_path_factory.mktemp("hostile")
    args = ["record", "-d", "2.5", "--threads", "--rate", "200"]
    for name in OUTPUTS:
        args += ["-o", str(out / name)]
    result = cli(*args, "--", sys.executable, str(target_path("hostile_names")))
    assert result.returncode == 0, result.stderr
    return out, result.stdout + result.stderr


def _names(profile: Profile) -> tuple[set[str], set[str], set[str]]:
    functions = {f.function for s in profile.merged() for f in s.stack}
    files = {f.file for s in profile.merged() for f in s.stack}
    return functions, files, {s.thread for s in profile.merged()}


def test_the_capture_keeps_every_hostile_name_exactly(recorded: tuple[Path, str]) -> None:
    # GIVEN py-spy's raw output, whose names hold newlines, `;` and escapes
    functions, files, threads = _names(read_profile(recorded[0] / "a.flametop"))
    # THEN the lossless capture has them exactly as the target named them, none cut apart
    seen = [n for n in HOSTILE.NAMES if n in functions]
    assert len(seen) >= len(HOSTILE.NAMES) - 2, functions  # a 2.5 s run misses at most two
    assert "new\nline\r\nname" in functions or "new\nline\nname" in functions
    assert "semi;colon;name" in functions
    assert any("\x1b[2Jclear;screen.py" in f for f in files)
    assert {"\x1b[5mblink\x1b[0m", "[reverse]thread[/]", "semi;thread\nnl"} <= threads
    # AND no fragment of a cut record became a function of its own
    assert not any(f.startswith(("line", "nl;")) for f in functions)
    assert not any(f.startswith("thread") and not f.startswith("thread (") for f in functions)


def test_record_and_report_print_no_escape_or_control(recorded: tuple[Path, str]) -> None:
    out, record_text = recorded
    # THEN the record summary (hottest functions, command line) is clean
    assert not CONTROL.search(record_text), repr(CONTROL.search(record_text))
    assert "hottest" in record_text
    # AND `flametop report` on every format prints names without escapes, one per row
    for name in OUTPUTS[1:]:  # all but the SVG picture
        result = cli("report", str(out / name), "--top", "0")
        assert result.returncode == 0, (name, result.stderr)
        assert not CONTROL.search(result.stdout), (name, CONTROL.search(result.stdout))
        assert "[bold red]markup[/bold red]" in result.stdout, name


def test_svg_is_well_formed_and_names_are_text_not_markup(recorded: tuple[Path, str]) -> None:
    data = (recorded[0] / "a.svg").read_bytes()
    root = ET.fromstring(data)  # well-formed XML
    text = data.decode("utf-8")
    assert not CONTROL.search(text)
    # THEN a name that looks like markup is text inside a title, not an element
    titles = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}title"))
    assert "</text><script>alert(1)</script>" in titles
    assert "<script>alert(1)" not in text
    assert "[@click=app.quit]quit[/]" in titles


def test_json_is_valid_and_names_round_trip(recorded: tuple[Path, str]) -> None:
    doc = json.loads((recorded[0] / "a.speedscope.json").read_text(encoding="utf-8"))
    names = {f["name"] for f in doc["shared"]["frames"]}
    assert "semi;colon;name" in names and "ansi\x1b[31mRED\x1b[0m" in names
    pprof_functions, _, _ = _names(read_profile(recorded[0] / "a.pb.gz"))
    assert "[bold red]markup[/bold red]" in pprof_functions
    assert "osc\x1b]0;pwned-title\x07end" in pprof_functions


def test_folded_has_one_stack_per_line(recorded: tuple[Path, str]) -> None:
    path = recorded[0] / "a.folded"
    lines = [ln for ln in path.read_text(encoding="utf-8").split("\n") if ln]
    stacks = [ln for ln in lines if not ln.startswith("#")]
    # THEN every stack line ends in its count, no name holds a raw newline, ESC or CR
    assert all(re.search(r" \d+$", ln) for ln in stacks)
    assert not any(CONTROL.search(ln) or "\r" in ln for ln in lines)
    # AND it reads back to the same samples and as many stacks as lines
    folded = read_folded(path.read_bytes())
    capture = read_profile(recorded[0] / "a.flametop")
    assert folded.total == capture.in_mode().total
    assert len(folded.merged()) == len(stacks)


@sync
async def test_the_screen_shows_hostile_names_literally(recorded: tuple[Path, str]) -> None:
    out = recorded[0]
    args = argparse.Namespace(file=str(out / "a.flametop"), baseline=None, save_dir=out / "s")
    app = build_app(args)
    total = read_profile(out / "a.flametop").in_mode().total
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(lambda: app.shown is not None and app.shown.total_samples == total)
        await pilot.pause(0.2)
        screens = app.export_screenshot()
        await pilot.press("t")  # the thread chooser lists hostile thread names
        await pilot.pause(0.2)
        screens += app.export_screenshot()
        await pilot.press("escape")
        text = screen_text(app)
        # THEN the app is still running: `[@click=app.quit]` did nothing
        assert app.is_running
    # AND no escape, bell or bidi override reached the screen, and markup stayed literal
    assert not CONTROL.search(screens)
    assert "[bold" in screens or "[bold&#160;red]" in screens
    assert "markup[/bold" in text or "markup[/bold&#160;red]" in screens
