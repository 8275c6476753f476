"""Helpers for tests that hand our files to real consumers (go tool pprof, the speedscope
schema, headless Chromium) and a small sample Profile to feed them. Reusable by any test.

Every finder returns None when its tool is missing, so a test can skip with the reason; the
speedscope schema is vendored in tests/data/speedscope, so it is never missing.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

from samplers.model import Frame, Metadata, Profile, Sample, SampleBatch

REPO = Path(__file__).resolve().parent.parent
# speedscope 1.25.0's dist/release/file-format-schema.json, vendored (MIT; see its NOTICE).
SCHEMA = REPO / "tests/data/speedscope/speedscope-1.25.0-file-format-schema.json"

HOSTILE_NAMES = (
    "\x1b[31mred\x1b[0m",  # ANSI colour
    "\x1b]8;;http://evil/\x07link\x1b]8;;\x07",  # OSC 8 hyperlink
    "[bold red]markup[/] [@click=quit]x[/]",  # Rich/Textual markup
    "a;b;c",  # the folded separator
    "new\nline\rcr\ttab",
    "<script>alert(1)</script> & ]]> \"'",  # XML/HTML specials and CDATA end
    "\u202eevil\u202c \u200frtl",  # bidi override and RTL mark
    "émoji 🔥 名前",
    "x" * 500,  # very long
)


def find_go() -> str | None:
    return shutil.which("go")


def go_env(tmp: Path) -> dict[str, str]:
    """An environment in which `go` runs offline with every cache under `tmp`."""
    env = dict(os.environ)
    env.update(
        HOME=str(tmp),
        GOPATH=str(tmp / "gopath"),
        GOCACHE=str(tmp / "gocache"),
        GOFLAGS="-mod=mod",
        GOTOOLCHAIN="local",
        GOPROXY="off",
        GO111MODULE="on",
    )
    return env


def go_pprof(args: list[str], tmp: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    go = find_go()
    assert go is not None
    return subprocess.run(  # noqa: S603 - argument list, no shell
        [go, "tool", "pprof", *args],
        env=go_env(tmp),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def speedscope_schema() -> Path:
    """speedscope's own JSON schema, committed under tests/data (no npm needed)."""
    return SCHEMA


def _chromium_args(profile_dir: str) -> list[str]:
    chromium = find_chromium()
    assert chromium is not None
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile_dir}",
    ]


def chromium_screenshot(page: Path, png: Path, fragment: str = "", size: str = "1200,800") -> Path:
    """Render `page` (optionally with `#fragment`) in headless Chromium into `png`."""
    with tempfile.TemporaryDirectory() as profile_dir:
        subprocess.run(  # noqa: S603 - argument list, no shell
            [
                *_chromium_args(profile_dir),
                f"--screenshot={png}",
                f"--window-size={size}",
                page.resolve().as_uri() + (f"#{fragment}" if fragment else ""),
            ],
            capture_output=True,
            timeout=60,
            check=False,
        )
    return png


def chromium_dom(page: Path, fragment: str = "") -> str:
    """The DOM of `page` after its scripts ran, as headless Chromium serialises it."""
    with tempfile.TemporaryDirectory() as profile_dir:
        out = subprocess.run(  # noqa: S603 - argument list, no shell
            [
                *_chromium_args(profile_dir),
                "--dump-dom",
                page.resolve().as_uri() + (f"#{fragment}" if fragment else ""),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    return out.stdout


def png_pixels(png: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit non-interlaced PNG."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8, "only 8-bit PNGs"
            channels = {2: 3, 6: 4, 0: 1, 4: 2}[colour]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def png_colours(png: Path, step: int = 4) -> int:
    """How many distinct colours a (sub-sampled) PNG holds: ~1 for a blank page."""
    width, height, rows = png_pixels(png)
    channels = len(rows[0]) // width if rows else 3
    seen: set[bytes] = set()
    for y in range(0, height, step):
        row = rows[y]
        for x in range(0, width, step):
            seen.add(row[x * channels : x * channels + 3])
    return len(seen)


def sample_profile(threads: bool = True, hostile: bool = False, scale: int = 1) -> Profile:
    """A small two-thread profile with known counts: hot 60, warm 30, cold 10 (× scale)."""
    main = Frame("<module>", "app.py", 1)
    run = Frame("run", "app.py", 10)
    hot = Frame("hot", "/usr/lib/python3.11/json/encoder.py", 200)
    warm = Frame("warm", "app.py", 30)
    cold = Frame("cold", "/venv/lib/python3.11/site-packages/requests/api.py", 59)
    samples = [
        Sample("MainThread" if threads else "", (main, run, hot), 40 * scale),
        Sample("Worker-1" if threads else "", (main, run, hot), 20 * scale),
        Sample("MainThread" if threads else "", (main, run, warm), 30 * scale),
        Sample("MainThread" if threads else "", (main, cold), 10 * scale),
    ]
    if hostile:
        for i, name in enumerate(HOSTILE_NAMES):
            frame = Frame(name, f"{name}.py", i + 1)
            samples.append(Sample(name if threads else "", (main, frame), 5 * scale))
    meta = Metadata(
        flametop_version="0.1.0",
        sampler="py-spy 0.4.3",
        rate=100.0,
        mode="cpu",
        start_time="2026-11-25T12:00:00+00:00",
        duration_s=2.0,
        host="testhost",
        pid=4242,
        cmdline=("python", "app.py", "--port", "0"),
        python_version="3.11.7",
        git_commit="0123456789abcdef0123456789abcdef01234567",
    )
    batch1 = SampleBatch(
        1_700_000_000.0, 1_700_000_001.0, tuple(samples[:2]), "cpu", 100.0, ("chunk 1",)
    )
    batch2 = SampleBatch(1_700_000_001.0, 1_700_000_002.0, tuple(samples[2:]), "cpu", 100.0)
    return Profile(metadata=meta, batches=(batch1, batch2))


def function_counts(profile: Profile) -> dict[str, int]:
    """Own samples per function name (the leaf of each stack)."""
    out: dict[str, int] = {}
    for s in profile.merged():
        if s.stack:
            out[s.stack[-1].function] = out.get(s.stack[-1].function, 0) + s.count
    return out


# A tiny busy Python program for py-spy: a hot and a cold function on the main thread, a
# worker thread whose name holds the folded separator, a non-ASCII function, and a child
# process whose command line holds `;` (for --subprocesses).
PYSPY_TARGET = """
import subprocess, sys, threading, time

def hot():
    s = 0
    for i in range(20000):
        s += i * i
    return s

def cold():
    s = 0
    for i in range(5000):
        s += i
    return s

def 計算():
    return hot()

def worker():
    while True:
        計算()

def main(seconds):
    threading.Thread(target=worker, name="Worker;One", daemon=True).start()
    child = subprocess.Popen([sys.executable, "-c",
        "import time; end = time.time() + %f\\nwhile time.time() < end: sum(range(1000))" % seconds])
    end = time.time() + seconds
    while time.time() < end:
        hot(); hot(); hot(); cold()
    child.wait()

main(float(sys.argv[1]))
"""


def find_pyspy() -> str | None:
    import sys

    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start_pyspy_target(tmp: Path, seconds: float = 4.0) -> subprocess.Popen[bytes]:
    """Start PYSPY_TARGET with this interpreter (no PATH shim: the pid is Python's)."""
    import sys

    script = tmp / "busy_target.py"
    script.write_text(PYSPY_TARGET, encoding="utf-8")
    return subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
        [sys.executable, str(script), str(seconds)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def pyspy_record(
    pid: int, out: Path, fmt: str, *flags: str, seconds: int = 1
) -> subprocess.Popen[str]:
    """Start `py-spy record` on `pid` (nonblocking, so several runs can share a target)."""
    pyspy = find_pyspy()
    assert pyspy is not None
    return subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
        [
            pyspy,
            "record",
            "--pid",
            str(pid),
            "-d",
            str(seconds),
            "-r",
            "100",
            "--nonblocking",
            "--format",
            fmt,
            "-o",
            str(out),
            *flags,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


GO_PROGRAM = """package main

import (
\t"os"
\t"runtime/pprof"
\t"time"
)

//go:noinline
func spin(n int) int {
\ts := 0
\tfor i := 0; i < n; i++ {
\t\ts += mix(i)
\t}
\treturn s
}

func mix(i int) int { return (i*31 + 7) % 1013 } // small: inlined into spin

func main() {
\tf, err := os.Create(os.Args[1])
\tif err != nil {
\t\tpanic(err)
\t}
\tif err := pprof.StartCPUProfile(f); err != nil {
\t\tpanic(err)
\t}
\tend := time.Now().Add(600 * time.Millisecond)
\ttotal := 0
\tfor time.Now().Before(end) {
\t\ttotal += spin(200000)
\t}
\tpprof.StopCPUProfile()
\tf.Close()
\tif total == 42 {
\t\tprintln(total)
\t}
}
"""


def go_cpu_profile(tmp: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """Build and run GO_PROGRAM (stdlib only, offline) so Go's runtime/pprof writes `out`."""
    go = find_go()
    assert go is not None
    src = tmp / "goprog"
    src.mkdir(exist_ok=True)
    (src / "main.go").write_text(GO_PROGRAM)
    (src / "go.mod").write_text("module flametopgo\n\ngo 1.19\n")
    env = go_env(tmp)
    built = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [go, "build", "-o", str(src / "prog"), "."],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if built.returncode != 0:
        return built
    return subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [str(src / "prog"), str(out.resolve())],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
