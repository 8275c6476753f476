"""SamplingOptions: one value, checked once, that every backend takes; a request a
backend cannot serve is refused before anything starts."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from support_targets import run_flametop

from samplers.backends.pyspy_cli import PySpySampler
from samplers.backends.pyspy_run import pyspy_args
from samplers.errors import UsageError
from samplers.model import SamplingOptions


@pytest.mark.parametrize("rate", [0.5, 1001.0])
def test_a_rate_outside_1_to_1000_hz_is_refused_when_the_options_are_built(rate: float) -> None:
    # WHEN options are built with a rate py-spy cannot sample at
    with pytest.raises(UsageError) as refused:
        SamplingOptions(rate=rate)
    # THEN the one-line message names the range and the flag to change
    assert "1-1000 Hz" in str(refused.value) and "--rate" in str(refused.value)


def test_an_unknown_mode_is_refused_even_through_replace() -> None:
    # GIVEN valid options WHEN a copy asks for a mode that does not exist THEN refused
    with pytest.raises(UsageError, match="cpu, wall, gil"):
        replace(SamplingOptions(), mode="io")  # type: ignore[arg-type]


def test_the_options_become_the_py_spy_command_line() -> None:
    # GIVEN wall mode at 250 Hz with native frames and children
    options = SamplingOptions(mode="wall", rate=250, native=True, subprocesses=True)
    # THEN py-spy gets the rate, --idle, and the flags (with --threads always on)
    assert pyspy_args(options) == [
        "--rate",
        "250",
        "--idle",
        "--threads",
        "--native",
        "--subprocesses",
    ]


def test_cpu_mode_on_the_py_spy_cli_reads_without_stopping_the_target() -> None:
    # GIVEN cpu mode THEN py-spy runs --nonblocking (its blocking idle test counts the
    # threads it stopped as running); wall and gil keep blocking reads
    assert "--nonblocking" in pyspy_args(SamplingOptions(mode="cpu"))
    assert pyspy_args(SamplingOptions(mode="cpu", nonblocking=True)).count("--nonblocking") == 1
    assert "--nonblocking" not in pyspy_args(SamplingOptions(mode="wall"))
    assert "--nonblocking" not in pyspy_args(SamplingOptions(mode="gil"))


class _NoGilSampler(PySpySampler):
    """A backend that cannot tell the GIL holder nor read native frames."""

    label = "no-gil"
    supported_modes = ("cpu", "wall")
    supported_flags = ("threads",)


def test_a_backend_refuses_what_it_does_not_declare_before_it_starts() -> None:
    # GIVEN a backend that declares cpu and wall only, and no --native
    # WHEN it is built or reconfigured for gil mode or native frames
    # THEN a one-line UsageError (exit 2) names what to use instead
    with pytest.raises(UsageError, match="no gil mode: use --mode cpu or wall") as refused:
        _NoGilSampler(os.getpid(), SamplingOptions(mode="gil"))
    assert refused.value.exit_code == 2
    sampler = _NoGilSampler(os.getpid(), SamplingOptions(mode="wall"))
    with pytest.raises(UsageError, match="no --native: drop it"):
        sampler.configure(replace(sampler.options, native=True))
    assert sampler.options.mode == "wall" and not sampler.options.native


def test_the_cli_refuses_a_bad_rate_in_one_line_before_attaching() -> None:
    # WHEN record is asked for 5000 Hz (of a pid that does not even exist)
    done = run_flametop("record", "--pid", "999999999", "--rate", "5000", "-o", "x.svg")
    # THEN it exits 2 with one line naming the range, not the missing pid
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "1-1000 Hz" in lines[0], done.stderr
