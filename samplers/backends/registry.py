"""Which live sampler `top` and `record` run (`--sampler`), built in one place.

`auto` (the default) is py-spy in-process (native/, StreamingSampler) wherever the
extension is built — and, for `--native`, built with libunwind; otherwise the py-spy CLI
in chunks (PySpySampler)."""

from __future__ import annotations

from dataclasses import replace

from samplers.backends import streaming
from samplers.backends.lifecycle import SamplerLifecycle
from samplers.backends.pyspy_cli import PySpySampler
from samplers.backends.pyspy_tool import find_pyspy, pyspy_version
from samplers.errors import UsageError
from samplers.model import SamplingOptions

SAMPLERS = ("auto", "in-process", "py-spy")  # the first is the default
IN_PROCESS = "in-process"
CLI = "py-spy"


def resolve(name: str, native: bool = False) -> str:
    """The backend `name` stands for here: 'in-process' or 'py-spy'."""
    if name not in SAMPLERS:
        raise UsageError(f"unknown sampler {name!r}: use one of {', '.join(SAMPLERS)}")
    if name == "auto":
        usable = streaming.available() and (not native or streaming.has_unwind())
        return IN_PROCESS if usable else CLI
    if name == IN_PROCESS:
        if not streaming.available():
            raise UsageError(
                "the in-process sampler is not built (no cargo when flametop was installed): "
                "run `make` with Rust installed, or use --sampler py-spy"
            )
        if native and not streaming.has_unwind():
            raise UsageError(
                "this build of the in-process sampler has no native unwinding (libunwind-dev "
                "was missing): drop --native or use --sampler py-spy"
            )
    return name


def find_sampler(name: str, native: bool = False) -> str:
    """The py-spy executable the backend needs ("" for in-process); SamplerMissingError
    naming the install command when it is missing."""
    return find_pyspy() if resolve(name, native) == CLI else ""


def sampler_version(sampler: SamplerLifecycle) -> str:
    """'py-spy 0.4.3 in-process' or 'py-spy 0.4.3', for the metadata of a recording."""
    if isinstance(sampler, streaming.StreamingSampler):
        return streaming.backend_version()
    return pyspy_version(find_pyspy())


def backend_class(name: str, native: bool = False) -> type[SamplerLifecycle]:
    """The class of the backend `name` stands for here."""
    if resolve(name, native) == IN_PROCESS:
        return streaming.StreamingSampler
    return PySpySampler


def check_request(name: str, options: SamplingOptions) -> None:
    """Refuse up front (UsageError, exit 2) what the chosen backend cannot sample."""
    backend_class(name, options.native).check_supported(options)


def make_sampler(
    name: str,
    pid: int,
    options: SamplingOptions | None = None,
    *,
    our_child: bool = False,
) -> SamplerLifecycle:
    """A sampler of pid with `options`, not yet started.

    `our_child`: flametop started the target (`-- CMD`). py-spy's blocking read stops the
    target with ptrace and waits for it with waitpid, which for a child of this very
    process also sees, and races with, the exits and stops Python's subprocess module
    waits for (seen: a child's ptrace stop taken for its death, the command then stopped
    as if it had ended). So an in-process sampler reads a child without stopping it
    (--nonblocking), and --native, which needs the stop, uses the py-spy CLI."""
    options = options or SamplingOptions()
    kind = backend_class(name, options.native)
    if kind is streaming.StreamingSampler and our_child:
        if options.native:
            kind = PySpySampler
        options = replace(options, nonblocking=True)
    # each backend checks the options it is built with (check_supported)
    if kind is PySpySampler:
        return PySpySampler(pid, options)
    return streaming.StreamingSampler(pid, options)
