"""Which live sampler `top` and `record` run (`--sampler`), built in one place."""

from __future__ import annotations

from samplers.backends.pyspy_cli import PySpySampler
from samplers.backends.pyspy_tool import find_pyspy, pyspy_version
from samplers.errors import UsageError

SAMPLERS = ("py-spy",)  # the first is the default
LiveSampler = PySpySampler


def find_sampler(name: str) -> str:
    """The sampler's executable; SamplerMissingError naming the install command."""
    if name == "py-spy":
        return find_pyspy()
    raise UsageError(f"unknown sampler {name!r}: use one of {', '.join(SAMPLERS)}")


def sampler_version(name: str, exe: str) -> str:
    """'py-spy 0.4.3', for the metadata of what was recorded."""
    return pyspy_version(exe)


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
    return PySpySampler(
        pid,
        mode=mode,
        rate=rate,
        threads=threads,
        native=native,
        subprocesses=subprocesses,
        nonblocking=nonblocking,
    )
