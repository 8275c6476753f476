"""Property tests: any bytes, and valid files mutated at random, give a Profile or a
FormatError from every reader and from format detection; nothing else, and no hang."""

from __future__ import annotations

import gzip

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support_consumers import sample_profile

from samplers.errors import FormatError
from samplers.formats import capture, chrometrace, folded, pprof, registry, speedscope
from samplers.model import Frame, Metadata, Profile, Sample, SampleBatch

READERS = {
    "folded": folded.read,
    "speedscope": speedscope.read,
    "pprof": pprof.read,
    "flametop": capture.read,
    "chrometrace": chrometrace.read,
    "detected": lambda data: registry.parse(data, registry._detect(data, "x")),
}
_PROFILE = sample_profile(hostile=True)
VALID = {
    "folded": folded.write(_PROFILE),
    "speedscope": speedscope.write(_PROFILE),
    "pprof": pprof.write(_PROFILE),
    "pprof-raw": gzip.decompress(pprof.write(_PROFILE)),
    "flametop": capture.write(_PROFILE),
    "flametop-raw": gzip.decompress(capture.write(_PROFILE)),
    "chrometrace": b'[{"ph":"B","ts":0,"tid":1,"name":"a"},{"ph":"E","ts":10,"tid":1}]',
}
FUZZ = settings(
    max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "150")),
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize="FUZZ_EXAMPLES" not in __import__("os").environ,
)


def _check(read: object, data: bytes) -> None:
    assert callable(read)
    try:
        result = read(data)
    except FormatError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(result, Profile)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(VALID[draw(st.sampled_from(sorted(VALID)))])
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 32))]
    return bytes(data)


@pytest.mark.parametrize("reader", sorted(READERS))
@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes_give_a_profile_or_format_error(reader: str, data: bytes) -> None:
    _check(READERS[reader], data)


@pytest.mark.parametrize("reader", sorted(READERS))
@FUZZ
@given(data=mutated())
def test_mutated_valid_files_give_a_profile_or_format_error(reader: str, data: bytes) -> None:
    _check(READERS[reader], data)


@FUZZ
@given(
    # any code point, lone surrogates included: a JSON file can carry "\ud800"
    text=st.text(st.characters(codec=None, exclude_categories=()), min_size=1, max_size=200),
    threads=st.lists(st.text(max_size=30), min_size=1, max_size=3),
    counts=st.lists(st.integers(1, 10**6), min_size=1, max_size=5),
)
def test_any_names_round_trip_through_every_writer(
    text: str, threads: list[str], counts: list[int]
) -> None:
    # GIVEN frames and threads with arbitrary Unicode names
    samples = tuple(
        Sample(threads[i % len(threads)], (Frame(text, text, i), Frame(f"{text}{i}", "f.py", 1)), c)
        for i, c in enumerate(counts)
    )
    profile = Profile(Metadata(cmdline=(text,), rate=100.0), (SampleBatch(0, 1, samples),))
    # WHEN written by every writer and read back by its reader
    for fmt in ("folded", "speedscope", "pprof", "flametop"):
        data = registry.WRITERS[fmt](profile)
        again = registry.parse(data, registry._detect(data, "x"))
        # THEN no sample is lost
        assert again.total == sum(counts), fmt
    registry.WRITERS["svg"](profile)
