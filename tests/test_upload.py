"""`flametop upload FILE… --server URL --app NAME`: each profile reaches a local stand-in
for Pyroscope (tests/support_pyroscope.py) as the ingest contract says, and every way a
server can say no is one line and exit 1; bad usage is exit 2.

No real Pyroscope server can run here (none ships in the package registries these
machines reach): the stand-in checks the documented contract instead."""

from __future__ import annotations

import os
from calendar import timegm
from pathlib import Path

import pytest
from support_consumers import find_go, go_pprof, sample_profile
from support_pyroscope import Expect, fake_pyroscope, self_signed_cert

from samplers.formats import write_profile
from samplers.model import Metadata
from samplers.session.upload import metadata_labels
from tui.cli import main

START = timegm((2026, 11, 25, 12, 0, 0))  # sample_profile's start_time


def _upload(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["upload", *args])
    return code, capsys.readouterr().err


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    return write_profile(sample_profile(), tmp_path / "run.flametop")


def test_each_file_is_posted_to_ingest_as_pprof_with_every_documented_field(
    tmp_path: Path, capture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a capture that says when it was recorded, and a folded file that does not
    folded = write_profile(sample_profile(), tmp_path / "run.folded")
    os.utime(folded, (START + 3600, START + 3600))
    with fake_pyroscope() as server:
        # WHEN both are uploaded with two tags
        code, err = _upload(
            capsys, str(capture), str(folded), "--server", server.url, "--app", "checkout",
            "--tag", "env=ci", "--tag", "region=eu-1",
        )  # fmt: skip
        # THEN both arrived, and nothing broke the contract
        assert code == 0, err
        assert server.violations == []
        first, second = server.received
    # AND the query holds every field Pyroscope reads
    assert first.path == "/ingest"
    assert first.query["format"] == "pprof"
    assert first.query["spyName"] == "flametop"
    assert first.query["sampleRate"] == "100"
    assert first.app == "checkout"
    # from/until: the capture's start time and duration (2 s)
    assert first.span == (START, START + 2)
    # the folded file has no time of its own: it ended when it was last modified
    assert second.span[1] == START + 3600 and second.span[0] < second.span[1]
    # AND the labels: the tags, then what the metadata says where Pyroscope takes it
    labels = first.labels
    assert labels["env"] == "ci" and labels["region"] == "eu-1"
    assert labels["hostname"] == "testhost"
    assert labels["service_git_ref"] == "0123456789abcdef0123456789abcdef01234567"
    assert labels["python_version"] == "3.11.7"
    # AND a raw body (not multipart), no credentials when none were given
    assert first.headers["content-type"] == "application/octet-stream"
    assert "authorization" not in first.headers and "x-scope-orgid" not in first.headers
    assert "sent" in err and "checkout{" in err


@pytest.mark.skipif(find_go() is None, reason="needs go (golang-go) for go tool pprof")
def test_the_uploaded_body_opens_in_go_tool_pprof(
    tmp_path: Path, capture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_pyroscope() as server:
        code, err = _upload(capsys, str(capture), "--server", server.url, "--app", "a")
        assert code == 0, err
        body = server.received[0].body
    path = tmp_path / "body.pb.gz"
    path.write_bytes(body)
    # WHEN go tool pprof reads what the server received
    done = go_pprof(["-top", "-sample_index=samples", str(path)], tmp_path)
    # THEN it opens, with the counts of the profile (hot 60, warm 30, cold 10 samples)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[-1]: line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    assert (rows.get("hot"), rows.get("warm"), rows.get("cold")) == ("60", "30", "10")


def test_basic_auth_from_the_url_is_sent_and_never_printed(
    capture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a server that wants basic auth, as Grafana Cloud does (a ':' in the password)
    with fake_pyroscope(expect=Expect(basic=("12345", "glc_s3cr:t"))) as server:
        url = server.url_with("12345", "glc_s3cr%3At")
        # WHEN the credentials are given in the URL
        code, err = _upload(capsys, str(capture), "--server", url, "--app", "a")
        # THEN they are accepted, and the password is not in anything printed
        assert code == 0, err
        assert len(server.received) == 1
    assert "glc_s3cr" not in err


def test_a_bearer_token_from_the_environment_and_a_tenant_header(
    capture: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLAMETOP_UPLOAD_TOKEN", "tok-123")
    with fake_pyroscope(expect=Expect(token="tok-123", tenant="team-a")) as server:
        code, err = _upload(
            capsys, str(capture), "--server", server.url, "--app", "a", "--tenant", "team-a"
        )
        assert code == 0, err
        assert server.received[0].headers["x-scope-orgid"] == "team-a"


def test_wrong_credentials_are_a_refused_upload_with_the_servers_answer(
    capture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_pyroscope(expect=Expect(basic=("u", "right"))) as server:
        code, err = _upload(
            capsys, str(capture), "--server", server.url_with("u", "pw-Xq9z"), "--app", "a"
        )
    assert code == 1
    assert "HTTP 401: unauthorized: credentials do not match" in err
    assert "check the credentials" in err
    assert "pw-Xq9z" not in err


@pytest.mark.parametrize(
    ("status", "text"),
    [(500, "boom\nsecond line of a stack trace"), (429, "rate limited"), (400, "bad profile")],
)
def test_a_refusal_prints_the_status_and_the_first_line_of_the_answer(
    capture: Path, capsys: pytest.CaptureFixture[str], status: int, text: str
) -> None:
    with fake_pyroscope(answer=("status", status, text)) as server:
        code, err = _upload(capsys, str(capture), "--server", server.url, "--app", "a")
    assert code == 1
    lines = [line for line in err.splitlines() if line]
    assert len(lines) == 1, err  # one line, no traceback
    assert f"HTTP {status}: {text.splitlines()[0]}" in lines[0]
    assert "second line" not in err


def test_a_server_that_never_answers_times_out(
    capture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_pyroscope(answer=("hang",)) as server:
        code, err = _upload(
            capsys, str(capture), "--server", server.url, "--app", "a", "--timeout", "0.5"
        )
        server.release()
    assert code == 1
    assert "did not answer within 0.5 s" in err


def test_an_unreachable_server_is_exit_1(capture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with fake_pyroscope() as server:
        url = server.url
    code, err = _upload(capsys, str(capture), "--server", url, "--app", "a")  # it is down now
    assert code == 1
    assert "cannot reach http://127.0.0.1:" in err


def test_https_checks_the_certificate_and_cacert_trusts_a_private_ca(
    tmp_path: Path, capture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tls = self_signed_cert(tmp_path)
    if tls is None:
        pytest.skip("needs the openssl CLI to make a certificate")
    with fake_pyroscope(tls=tls) as server:
        assert server.url.startswith("https://")
        # WHEN the server's certificate is not trusted, THEN the upload is refused, naming --cacert
        code, err = _upload(capsys, str(capture), "--server", server.url, "--app", "a")
        assert code == 1 and "--cacert" in err and "not trusted" in err
        assert server.received == []
        # WHEN its CA is given, THEN it goes through
        code, err = _upload(
            capsys, str(capture), "--server", server.url, "--app", "a", "--cacert", str(tls[0])
        )
        assert code == 0, err
        assert len(server.received) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--server", "ftp://x", "--app", "a"], "not an http(s) URL"),
        (["--server", "http://127.0.0.1:9", "--app", "my app"], "application name"),
        (["--server", "http://127.0.0.1:9", "--app", "a", "--tag", "env"], "KEY=VALUE"),
        (["--server", "http://127.0.0.1:9", "--app", "a", "--tag", "a-b=1"], "label name"),
        (["--server", "http://127.0.0.1:9", "--app", "a", "--tag", "k=a,b"], "label value"),
        (["--server", "http://127.0.0.1:9"], "give --app NAME"),
        (["--server", "http://127.0.0.1:9", "--app", "a", "--cacert", "/x"], "https server"),
        (["--server", "https://127.0.0.1:9", "--app", "a", "--cacert", "/nope"], "readable"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(
    capture: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, err = _upload(capsys, str(capture), *args)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_an_unreadable_file_is_exit_2_and_nothing_is_sent(
    tmp_path: Path, capture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.pb.gz"
    bad.write_bytes(b"\x1f\x8b not really")
    with fake_pyroscope() as server:
        code, err = _upload(capsys, str(capture), str(bad), "--server", server.url, "--app", "a")
        assert server.received == []
    assert code == 2 and "broken.pb.gz" in err


def test_token_and_basic_auth_together_are_refused_as_usage(
    capture: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLAMETOP_UPLOAD_TOKEN", "t")
    code, err = _upload(capsys, str(capture), "--server", "http://u:p@127.0.0.1:9", "--app", "a")
    assert code == 2 and "not both" in err


def test_metadata_labels_are_made_valid_for_pyroscope() -> None:
    # GIVEN metadata with characters Pyroscope's label syntax cannot carry
    from support_pyroscope import parse_name

    from samplers.session.upload import Upload

    meta = Metadata(host="web 1,{prod}", git_branch="feature/x=y", kernel_release="6.1.0-18")
    labels = metadata_labels(meta)
    # WHEN they make a series name, THEN it parses as Pyroscope parses names
    app, parsed = parse_name(Upload("a", labels, 0, 1, 100, b"").name)
    assert app == "a"
    assert parsed == {
        "hostname": "web_1_prod",
        "git_branch": "feature/x_y",
        "kernel_release": "6.1.0-18",
    }
