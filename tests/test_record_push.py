"""`flametop record … --server URL --app NAME --every S` against a real target with the
real sampler, pushing to the local Pyroscope stand-in: contiguous intervals whose samples
add up to the whole run, a stop signal spooling the interval in progress, usage errors
before anything starts."""

from __future__ import annotations

import io
import signal
import subprocess
import time
from pathlib import Path

import pytest
from support_consumers import find_go, go_pprof
from support_pyroscope import fake_pyroscope
from support_targets import REPO, flametop_cmd, run_flametop, running_target

from samplers.formats import read_profile
from samplers.formats.pprof import read as read_pprof
from samplers.session.push import PushStatus
from samplers.session.spool import Spool
from tui.commands.record import StatusLine

pytestmark = [pytest.mark.pyspy, pytest.mark.slow]


def test_pushes_contiguous_intervals_that_add_up_to_the_whole_run(tmp_path: Path) -> None:
    out = tmp_path / "run.flametop"
    with fake_pyroscope() as server, running_target("cpu_75_25") as pid:
        # WHEN recording for 3.5 s, one profile a second, with -o as well
        done = run_flametop(
            "record", "--pid", str(pid), "--server", server.url, "--app", "bench",
            "--tag", "env=ci", "--every", "1", "-d", "3.5", "--spool", str(tmp_path / "spool"),
            "-o", str(out),
        )  # fmt: skip
        received = list(server.received)
        assert server.violations == []
    assert done.returncode == 0, done.stderr
    # THEN 3 or 4 intervals went (the last one cut at the stop), each from = previous until
    spans = [r.span for r in received]
    assert 3 <= len(spans) <= 5, spans
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False)), spans
    # AND together they hold exactly the samples of the whole run written to -o
    pushed = sum(read_pprof(r.body).total for r in received)
    assert pushed == read_profile(out).in_mode().total > 0
    # AND the series names the app, the tag and the target's provenance
    labels = received[0].labels
    assert received[0].app == "bench" and labels["env"] == "ci"
    assert labels["build_id"] and labels["kernel_release"] and labels["python_version"]
    assert (
        "pushed    " in done.stdout and f"{len(spans)} profiles sent, 0 left spooled" in done.stdout
    )
    # AND a body opens in go tool pprof with the target's hot function
    if find_go() is not None:
        body = tmp_path / "one.pb.gz"
        body.write_bytes(received[0].body)
        top = go_pprof(["-top", str(body)], tmp_path)
        assert top.returncode == 0, top.stderr
        assert "hot_three_quarters" in top.stdout


def test_sigterm_with_the_server_down_spools_every_interval_for_upload_later(
    tmp_path: Path,
) -> None:
    spool = tmp_path / "spool"
    with fake_pyroscope() as server:
        url = server.url
    # GIVEN a server that is down for the whole run
    with running_target("cpu_75_25") as pid:
        proc = subprocess.Popen(  # noqa: S603
            flametop_cmd(
                "record", "--pid", str(pid), "--server", url, "--app", "svc",
                "--every", "1", "--spool", str(spool), "--timeout", "1",
            ),
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while len(list(spool.glob("*.upload"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        # WHEN it is stopped by SIGTERM in the middle of an interval
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    # THEN exit 1, and the message says where the profiles wait and how to send them
    assert proc.returncode == 1, stderr
    assert f"left in spool {spool}" in stderr and "flametop upload --spool" in stderr
    files = sorted(spool.glob("*.upload"))
    assert len(files) >= 3  # two whole intervals and the one in progress
    # AND `flametop upload --spool` sends them all, in order, contiguous
    with fake_pyroscope() as good:
        sent = run_flametop("upload", "--spool", str(spool), "--server", good.url)
        spans = [r.span for r in good.received]
    assert sent.returncode == 0, sent.stderr
    assert len(spans) == len(files)
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False)), spans


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--server", "http://127.0.0.1:9"], "give --app NAME"),
        (["--server", "http://127.0.0.1:9", "--app", "a", "--every", "0.5"], "at least 1 second"),
        (["--tag", "env=x", "-o", "x.svg"], "give --server URL too"),
        (["--server", "gopher://x", "--app", "a"], "not an http(s) URL"),
    ],
)
def test_push_usage_errors_are_exit_2_before_anything_starts(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = run_flametop("record", "--pid", "1", *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_a_spool_in_use_is_exit_2_before_sampling(tmp_path: Path) -> None:
    with Spool(tmp_path / "spool"), running_target("cpu_75_25") as pid:
        done = run_flametop(
            "record", "--pid", str(pid), "--server", "http://127.0.0.1:9", "--app", "a",
            "--spool", str(tmp_path / "spool"),
        )  # fmt: skip
    assert done.returncode == 2
    assert "in use by another flametop" in done.stderr
    assert "recording pid" not in done.stderr


class _Tty(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_the_status_line_is_rewritten_on_a_terminal_and_absent_in_a_pipe() -> None:
    status = PushStatus(sent=3, spooled=1, dropped=0, last_error="HTTP 503: busy")
    tty, pipe = _Tty(True), _Tty(False)
    for stream in (tty, pipe):
        line = StatusLine(stream)
        line(status)
        line(PushStatus(sent=4))
        line.end()
    assert pipe.getvalue() == ""
    text = tty.getvalue()
    assert text.count("\r\x1b[K") == 2 and text.endswith("\n")
    assert "sent 3 · spooled 1 · dropped 0 · last error: HTTP 503: busy" in text
