"""Which live sampler `top` and `record` run (`--sampler`), built in one place."""

from __future__ import annotations

from samplers.austin import AustinSampler
from samplers.austin_run import austin_version, find_austin
from samplers.errors import UsageError
from samplers.pyspy import PySpySampler
from samplers.pyspy_raw import find_pyspy, pyspy_version

SAMPLERS = ("py-spy", "austin")  # the first is the default
LiveSampler = PySpySampler | AustinSampler


def find_sampler(name: str) -> str:
    """The sampler's executable; SamplerMissingError naming the install command."""
    if name == "austin":
        return find_austin()
    if name == "py-spy":
        return find_pyspy()
    raise UsageError(f"unknown sampler {name!r}: use one of {', '.join(SAMPLERS)}")


def sampler_version(name: str, exe: str) -> str:
    """'py-spy 0.4.3' / 'austin 3.7.0', for the metadata of what was recorded."""
    return austin_version(exe) if name == "austin" else pyspy_version(exe)


def make_sampler(
    name: str,
    pid: int,
    *,
    mode: str = "cpu",
    rate: float = 100.0,
    threads: bool = False,
    native: bool = False,
    subprocesses: bool = False,
    nonblocking: bool = False,
) -> LiveSampler:
    """A sampler of pid, not yet started, with the shared sampling options."""
    if name not in SAMPLERS:
        raise UsageError(f"unknown sampler {name!r}: use one of {', '.join(SAMPLERS)}")
    cls = AustinSampler if name == "austin" else PySpySampler
    return cls(
        pid,
        mode=mode,
        rate=rate,
        threads=threads,
        native=native,
        subprocesses=subprocesses,
        nonblocking=nonblocking,
    )
