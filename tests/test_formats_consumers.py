"""Our exports opened by their real consumers: go tool pprof, speedscope's schema, Chromium."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support_consumers import (
    HOSTILE_NAMES,
    chromium_dom,
    chromium_screenshot,
    find_chromium,
    find_go,
    go_pprof,
    png_colours,
    sample_profile,
    speedscope_schema,
)

from samplers.formats import read_profile, write_profile
from samplers.formats.svg import write_diff

needs_go = pytest.mark.skipif(find_go() is None, reason="`go` not found: install golang-go")
needs_chromium = pytest.mark.skipif(find_chromium() is None, reason="chromium not found")


@needs_go
def test_go_tool_pprof_reads_our_pprof(tmp_path: Path) -> None:
    # GIVEN our pprof of a profile with known shares and metadata
    path = write_profile(sample_profile(threads=False), tmp_path / "p.pb.gz")
    # WHEN go tool pprof prints its top table
    out = go_pprof(["-top", str(path)], tmp_path)
    # THEN it accepted the file, shows our cpu time (100 samples at 100 Hz = 1 s) and functions
    assert out.returncode == 0, out.stderr
    assert "Type: cpu" in out.stdout
    assert re.search(r"of 1s total|of 1000ms total", out.stdout), out.stdout
    hot = next(line for line in out.stdout.splitlines() if line.rstrip().endswith(" hot"))
    assert "60.00%" in hot
    # AND names go would "demangle" stay as written (no system_name: `<module>` is kept)
    assert re.search(r"100%\s+<module>$", out.stdout, re.M), out.stdout
    # AND the metadata comments are shown
    assert "cmdline: python app.py --port 0" in out.stdout


@needs_go
def test_go_tool_pprof_reads_hostile_names_and_threads(tmp_path: Path) -> None:
    # GIVEN a pprof with hostile frame and thread names; WHEN go reads it with tags
    path = write_profile(sample_profile(hostile=True), tmp_path / "h.pprof")
    out = go_pprof(["-tags", str(path)], tmp_path)
    # THEN it accepts it and sees the thread label
    assert out.returncode == 0, out.stderr
    assert "thread:" in out.stdout and "MainThread" in out.stdout


@needs_go
def test_go_re_encoded_pprof_reads_back_the_same(tmp_path: Path) -> None:
    # GIVEN our pprof re-encoded by go tool pprof -proto (Go's own writer)
    ours = write_profile(sample_profile(threads=False), tmp_path / "ours.pb.gz")
    out = go_pprof(["-proto", "-output", str(tmp_path / "go.pb.gz"), str(ours)], tmp_path)
    assert out.returncode == 0, out.stderr
    # WHEN we read Go's file
    again = read_profile(tmp_path / "go.pb.gz")
    # THEN the totals match what we wrote
    assert again.total == 100


def test_speedscope_output_validates_against_speedscopes_schema(tmp_path: Path) -> None:
    schema_path = speedscope_schema()
    assert schema_path.is_file(), f"vendored speedscope schema missing: {schema_path}"
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema not installed")
    # GIVEN our speedscope file of a profile with threads and hostile names
    path = write_profile(sample_profile(hostile=True), tmp_path / "p.speedscope.json")
    doc = json.loads(path.read_bytes())
    # THEN it validates against speedscope's own schema, has one profile per thread, no nulls
    jsonschema.validate(doc, json.loads(schema_path.read_text()))
    assert len(doc["profiles"]) == 2 + len(HOSTILE_NAMES)
    assert "null" not in path.read_text()
    assert path.read_bytes().isascii()


def test_svg_is_well_formed_xml_with_hostile_names(tmp_path: Path) -> None:
    # GIVEN a flame graph of hostile names
    path = write_profile(sample_profile(hostile=True), tmp_path / "h.svg")
    raw = path.read_bytes()
    # THEN it parses as XML, has no control characters, and every frame has title/rect/text
    root = ET.fromstring(raw)
    frames = root.findall(".//{http://www.w3.org/2000/svg}g[@class='frame']")
    assert len(frames) >= 10
    for g in frames:
        kinds = [child.tag.split("}")[1] for child in g]
        assert kinds == ["title", "rect", "text"]
    assert not any(b < 0x20 and b not in (0x0A,) for b in raw)
    assert b"\x1b" not in raw and "\u202e".encode() not in raw
    assert b"<script>alert" not in raw
    # AND nothing refers to anything outside the file (names may mention URLs, as text)
    assert not re.search(rb"(href|src)\s*=|@import|url\(", raw)


@needs_chromium
def test_svg_renders_in_chromium_and_search_works(tmp_path: Path) -> None:
    # GIVEN a flame graph
    path = write_profile(sample_profile(threads=False), tmp_path / "p.svg")
    # WHEN Chromium renders it
    png = chromium_screenshot(path, tmp_path / "p.png")
    # THEN the picture is not blank (frames in several colours)
    assert png.exists(), "chromium wrote no screenshot"
    assert png_colours(png) > 8
    # AND a search run by the page's own script highlights and measures the matches
    dom = chromium_dom(path, fragment="search=^hot")
    assert "Matched: 60.0% of all samples (1 frames)" in dom
    assert dom.count('class="frame match"') == 1


@needs_chromium
def test_differential_svg_colours_change_and_says_it_in_text(tmp_path: Path) -> None:
    # GIVEN a baseline and a new profile where `cold` grew from 10% to about 53%
    base = sample_profile(threads=False)
    from samplers.model import Profile, Sample, SampleBatch

    extra = SampleBatch(0, 1, (Sample("", base.batches[1].samples[-1].stack, 90),))
    new = Profile(base.metadata, (*base.batches, extra))
    path = tmp_path / "diff.svg"
    path.write_bytes(write_diff(new, base))
    text = path.read_text("utf-8")
    ET.fromstring(text)
    # THEN the title names the biggest change with its sign, and frames carry ▲/▼ in text
    assert re.search(r"Biggest change: [+-]42\.6 pts (cold|run) ", text)
    assert "was 10.00%, change +42.63 pts" in text  # cold's tooltip: 10% -> 100/190
    assert "▲ cold" in text and "▼ hot" in text
    png = chromium_screenshot(path, tmp_path / "diff.png")
    assert png_colours(png) > 8


@needs_chromium
def test_svg_click_to_zoom_relayouts_the_subtree(tmp_path: Path) -> None:
    # GIVEN a flame graph; its frames are numbered parents first: 0 all, 1 <module>, 2 cold...
    path = write_profile(sample_profile(threads=False), tmp_path / "p.svg")
    root = ET.fromstring(path.read_bytes())
    ns = "{http://www.w3.org/2000/svg}"
    names = [g.get("data-name") for g in root.iter(f"{ns}g") if g.get("class") == "frame"]
    run = names.index("run (app.py)")
    # WHEN the page zooms into `run` (as a click does)
    dom = chromium_dom(path, fragment=f"zoom={run}")
    # THEN `run` fills the width, `cold` (a sibling) is hidden, and Reset is enabled
    frames = re.findall(
        r'<g class="([^"]*)"[^>]*data-name="([^"]*)"[^>]*>.*?<rect x="([\d.]+)"[^>]*width="([\d.]+)"',
        dom,
    )
    by_name = {name: (cls, float(x), float(w)) for cls, name, x, w in frames}
    assert by_name["run (app.py)"][1:] == (10.0, 1180.0)
    assert "hidden" in by_name["cold (/venv/lib/python3.11/site-packages/requests/api.py)"][0]
    assert "ancestor" in by_name["&lt;module&gt; (app.py)"][0]
    assert by_name["warm (app.py)"][2] == pytest.approx(1180.0 * 30 / 90, abs=0.05)
    assert '<g id="reset" class=""' in dom or 'id="reset" class=""' in dom


@needs_go
def test_go_tool_pprof_sees_wall_mode(tmp_path: Path) -> None:
    # GIVEN a wall-clock profile; WHEN go reads our pprof of it
    from dataclasses import replace

    base = sample_profile(threads=False)
    wall = replace(base, metadata=replace(base.metadata, mode="wall"))
    out = go_pprof(["-top", str(write_profile(wall, tmp_path / "w.pb.gz"))], tmp_path)
    # THEN its sample type is wall time, and we read it back as wall mode
    assert out.returncode == 0, out.stderr
    assert "Type: wall" in out.stdout
    assert read_profile(tmp_path / "w.pb.gz").metadata.mode == "wall"
