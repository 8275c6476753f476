"""Continuous push and its spool, without a sampler: intervals are contiguous, an outage
(down, 5xx, 429, a hanging server) loses none, the spool stays within its bounds and is
sent in order later. Waits are for an event with a generous limit, never timed asserts."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support_pyroscope import FakePyroscope, fake_pyroscope

from samplers.errors import UsageError
from samplers.model import Frame, Metadata, Sample, SampleBatch
from samplers.session.push import IntervalCutter, Pusher, PushStatus
from samplers.session.spool import Spool
from samplers.session.upload import Server, Upload, parse_server
from tui.cli import main

T0 = 1_800_000_000.0
HOT = (Frame("main", "app.py", 1), Frame("hot", "app.py", 5))


def _batch(t: float, n: int = 10) -> SampleBatch:
    return SampleBatch(t, t + 0.25, (Sample("MainThread", HOT, n),), "cpu", 100.0)


def _meta(start: float, end: float) -> Metadata:
    return Metadata(rate=100.0, mode="cpu", host="box", duration_s=end - start)


def _wait_for(what: Callable[[], bool], limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting")
        time.sleep(0.02)


def _pusher(server: FakePyroscope | str, spool: Spool, timeout: float = 5.0) -> Pusher:
    url = server if isinstance(server, str) else server.url
    return Pusher(parse_server(url, timeout=timeout), spool, first_backoff=0.05, max_backoff=0.2)


def _cut(pusher: Pusher, intervals: int, every: float = 10.0) -> IntervalCutter:
    """Feed `intervals` intervals of 4 batches each (10 samples a batch) and cut them."""
    cutter = IntervalCutter(pusher, "svc", (("env", "test"),), every, T0, _meta)
    for k in range(intervals):
        for j in range(4):
            cutter.add(_batch(T0 + k * every + j))
        cutter.tick(T0 + (k + 1) * every)
    return cutter


def _spans(server: FakePyroscope) -> list[tuple[int, int]]:
    return [r.span for r in server.received]


def test_intervals_are_contiguous_and_each_holds_its_own_samples(tmp_path: Path) -> None:
    # GIVEN a server that is up
    with fake_pyroscope() as server:
        pusher = _pusher(server, Spool(tmp_path / "spool"))
        pusher.start()
        # WHEN three 10 s intervals are cut, then a stop 4 s into the fourth
        cutter = _cut(pusher, 3)
        cutter.add(_batch(T0 + 31))
        cutter.finish(T0 + 34)
        status = pusher.stop()
        # THEN four profiles went, each `from` the previous `until`, the last one short
        assert server.violations == []
        spans = _spans(server)
    t = int(T0)
    assert spans == [(t, t + 10), (t + 10, t + 20), (t + 20, t + 30), (t + 30, t + 34)]
    assert status == PushStatus(sent=4)
    # AND each carries the app, the tags and the interval's samples only
    assert {r.app for r in server.received} == {"svc"}
    assert all(r.labels["env"] == "test" and r.labels["hostname"] == "box" for r in server.received)
    from samplers.formats.pprof import read

    counts = [read(r.body).total for r in server.received]
    assert counts == [40, 40, 40, 10]


def test_an_outage_loses_no_interval_and_order_is_kept(tmp_path: Path) -> None:
    # GIVEN a server that goes down after the first interval
    with fake_pyroscope() as server:
        pusher = _pusher(server, Spool(tmp_path / "spool"))
        pusher.start()
        cutter = _cut(pusher, 1)
        _wait_for(lambda: len(server.received) == 1)
        server.down()
        # WHEN three intervals are cut while it is down
        for k in range(1, 4):
            for j in range(4):
                cutter.add(_batch(T0 + k * 10 + j))
            cutter.tick(T0 + (k + 1) * 10)
        _wait_for(lambda: "cannot reach" in pusher.status().last_error)
        assert pusher.status().spooled == 3
        # AND it comes back: the backoff retries and the spool drains by itself
        server.up()
        _wait_for(lambda: len(server.received) == 4)
        cutter.add(_batch(T0 + 41))
        cutter.finish(T0 + 45)
        status = pusher.stop()
        spans = _spans(server)
    # THEN every interval arrived once, in order, contiguous
    assert len(spans) == 5 and status.sent == 5 and status.spooled == 0
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert spans == sorted(spans)


@pytest.mark.parametrize(
    "answer",
    [("status", 500, "internal"), ("status", 503, "starting"), ("status", 429, "slow down")],
)
def test_5xx_and_429_are_retried_until_accepted(tmp_path: Path, answer: tuple[object, ...]) -> None:
    with fake_pyroscope(answer=answer) as server:
        pusher = _pusher(server, Spool(tmp_path / "spool"))
        pusher.start()
        cutter = _cut(pusher, 2)
        # WHEN the server has refused more than once
        _wait_for(lambda: server.attempts >= 3)
        assert f"HTTP {answer[1]}" in pusher.status().last_error
        assert pusher.status().spooled == 2
        # THEN once it accepts, both intervals arrive in order
        server.answer = ("ok",)
        _wait_for(lambda: len(server.received) == 2)
        cutter.finish(T0 + 20)
        status = pusher.stop()
        assert _spans(server) == [(int(T0), int(T0) + 10), (int(T0) + 10, int(T0) + 20)]
    assert (status.sent, status.spooled, status.dropped) == (2, 0, 0)


def test_a_hanging_server_times_out_and_what_is_left_is_sent_later_by_upload(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spool_dir = tmp_path / "spool"
    # GIVEN a server that takes requests but never answers
    with fake_pyroscope(answer=("hang",)) as server:
        pusher = _pusher(server, Spool(spool_dir), timeout=0.3)
        pusher.start()
        cutter = _cut(pusher, 3)
        cutter.finish(T0 + 30)
        # WHEN the run stops
        status = pusher.stop()
        server.release()
    # THEN nothing was lost: all three wait in the spool, and the status says why
    assert status.sent == 0 and status.spooled == 3
    assert "did not answer within 0.3 s" in status.last_error
    # AND `flametop upload --spool` sends them, in order, to a server that works
    with fake_pyroscope() as good:
        code = main(["upload", "--spool", str(spool_dir), "--server", good.url])
        err = capsys.readouterr().err
        assert code == 0, err
        t = int(T0)
        assert _spans(good) == [(t, t + 10), (t + 10, t + 20), (t + 20, t + 30)]
        assert {r.app for r in good.received} == {"svc"}
    assert "sent 3 profiles from spool" in err
    assert not list(spool_dir.glob("*.upload"))


def test_upload_spool_stops_at_the_first_failure_and_keeps_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spool_dir = tmp_path / "spool"
    _fill_spool(spool_dir, 2)
    with fake_pyroscope(answer=("status", 502, "bad gateway")) as server:
        code = main(["upload", "--spool", str(spool_dir), "--server", server.url])
        err = capsys.readouterr().err
        assert server.attempts == 1  # the second is not tried out of order
    assert code == 1
    assert "HTTP 502: bad gateway" in err and "2 profiles are still spooled" in err
    assert len(list(spool_dir.glob("*.upload"))) == 2


def _fill_spool(
    directory: Path, n: int, size: int = 1000, clock: Callable[[], float] = time.time
) -> Spool:
    spool = Spool(directory, clock=clock)
    from samplers.formats.pprof import write
    from samplers.model import Profile

    body = write(Profile(_meta(T0, T0 + 10), (_batch(T0),)))
    for k in range(n):
        start = int(T0) + 10 * k
        spool.put(Upload("svc", (("pad", "x" * size),), start, start + 10, 100, body))
    spool.close()
    return spool


def test_a_full_spool_drops_the_oldest_first_and_counts_them(tmp_path: Path) -> None:
    # GIVEN a server that is down and a spool that holds about two intervals
    with fake_pyroscope() as server:
        url = server.url
    one = len(_one_file(tmp_path / "probe"))
    spool = Spool(tmp_path / "spool", max_bytes=int(one * 2.5))
    pusher = _pusher(url, spool)
    pusher.start()
    # WHEN five intervals are cut
    cutter = _cut(pusher, 5)
    cutter.finish(T0 + 50)
    status = pusher.stop()
    # THEN the three oldest were dropped and counted; the two newest wait, in order
    assert (status.spooled, status.dropped, status.sent) == (2, 3, 0)
    with Spool(tmp_path / "spool") as again:
        left = [again.load(item) for item in again.items()]
    assert [u.start for u in left if u is not None] == [int(T0) + 30, int(T0) + 40]


def _one_file(directory: Path) -> bytes:
    _fill_spool(directory, 1, size=0)
    (path,) = directory.glob("*.upload")
    return path.read_bytes()


def test_spooled_files_older_than_the_age_bound_are_dropped(tmp_path: Path) -> None:
    now = [T0]
    _fill_spool(tmp_path / "spool", 3, clock=lambda: now[0])
    now[0] = T0 + 25 * 3600  # a day and an hour later
    with Spool(tmp_path / "spool", max_age=24 * 3600, clock=lambda: now[0]) as spool:
        assert spool.trim() == 3
        assert spool.items() == [] and spool.dropped == 3


def test_spool_files_are_private_and_one_flametop_holds_a_spool(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    _fill_spool(directory, 1)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    (path,) = directory.glob("*.upload")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(directory.glob(".*.tmp"))  # atomic: no temporary left behind
    with Spool(directory):
        with pytest.raises(UsageError, match="in use by another flametop"):
            Spool(directory)


def test_a_body_the_server_rejects_is_removed_and_does_not_block_the_rest(tmp_path: Path) -> None:
    with fake_pyroscope(answer=("status", 400, "bad profile")) as server:
        pusher = _pusher(server, Spool(tmp_path / "spool"))
        pusher.start()
        _cut(pusher, 2)
        _wait_for(lambda: pusher.status().refused == 2)
        status = pusher.stop()
    assert (status.refused, status.spooled, status.sent) == (2, 0, 0)
    assert "HTTP 400: bad profile" in status.last_error


def test_a_damaged_spool_file_is_dropped_and_the_others_still_go(tmp_path: Path) -> None:
    directory = tmp_path / "spool"
    _fill_spool(directory, 2)
    first = sorted(directory.glob("*.upload"))[0]
    first.write_bytes(b"garbage")
    with fake_pyroscope() as server:
        with Spool(directory) as spool:
            pusher = Pusher(parse_server(server.url), spool)
            status = pusher.stop()  # never started: the last try alone sends
        assert len(server.received) == 1 and status.dropped == 1


def test_empty_intervals_are_not_sent(tmp_path: Path) -> None:
    with fake_pyroscope() as server:
        pusher = _pusher(server, Spool(tmp_path / "spool"))
        pusher.start()
        cutter = IntervalCutter(pusher, "svc", (), 10.0, T0, _meta)
        cutter.tick(T0 + 10)  # nothing sampled (an idle target in cpu mode)
        cutter.add(_batch(T0 + 11))
        cutter.finish(T0 + 20)
        status = pusher.stop()
        assert _spans(server) == [(int(T0) + 10, int(T0) + 20)]
    assert status.empty == 1 and status.sent == 1


def test_the_status_line_names_the_counts_and_the_last_error() -> None:
    line = PushStatus(sent=4, spooled=2, dropped=1, last_error="cannot reach x").line()
    assert line == "push · sent 4 · spooled 2 · dropped 1 · last error: cannot reach x"


def test_server_parsing_keeps_credentials_out_of_the_shown_url() -> None:
    server = parse_server("https://user:p%40ss@example.com:4040/pyro/", env={})
    assert server == Server("https://example.com:4040/pyro", ("user", "p@ss"))
    assert "p@ss" not in server.shown


def test_spool_dir_default_is_per_app_under_the_state_directory(tmp_path: Path) -> None:
    from samplers.session.spool import default_spool_dir

    assert default_spool_dir("a/b", {"XDG_STATE_HOME": str(tmp_path)}) == (
        tmp_path / "flametop" / "spool" / "a_b"
    )
    home = os.path.expanduser("~")
    assert str(default_spool_dir("svc", {})).startswith(home)


def test_production_is_5_hz_for_continuous_push_and_20_otherwise() -> None:
    from tui.cli import parse_args

    push = parse_args(
        ["record", "--pid", "1", "--server", "http://x", "--app", "a", "--production"]
    )
    assert (push.rate, push.nonblocking, push.duration) == (5.0, True, float("inf"))
    once = parse_args(["record", "--pid", "1", "-o", "x.svg", "--production"])
    assert (once.rate, once.duration) == (20.0, 30.0)
    chosen = parse_args(["record", "--pid", "1", "--server", "http://x", "--app", "a",
                         "--production", "--rate", "50"])  # fmt: skip
    assert chosen.rate == 50.0
