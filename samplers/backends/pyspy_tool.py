"""What flametop knows about the py-spy executable: where it is, its version, its
end-of-run summary, and how to turn its error text into a FlametopError that names the
fix. Its `--format raw` output is read by samplers/formats/pyspy_raw.py (the grammar,
shared with folded files, is samplers/formats/stack_text.py)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

from samplers.errors import (
    FlametopError,
    NotPythonError,
    SamplerFailedError,
    TargetNotFoundError,
)
from samplers.target.permissions import permission_error
from samplers.target.system import find_tool

PYSPY_ENV = "FLAMETOP_PYSPY"

_SAMPLES_RE = re.compile(r"Samples:\s*(\d+)\s+Errors:\s*(\d+)")


def find_pyspy() -> str:
    """The py-spy to run: $FLAMETOP_PYSPY, else PATH, else next to this interpreter."""
    return find_tool(
        "py-spy",
        PYSPY_ENV,
        "py-spy is not installed: run `pip install py-spy` in flametop's environment "
        f"(or set {PYSPY_ENV}=/path/to/py-spy)",
    )


def pyspy_version(exe: str) -> str:
    """'py-spy 0.4.3', or 'py-spy' when the version cannot be read."""
    try:
        out = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            [exe, "--version"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "py-spy"
    return out if out.startswith("py-spy") else "py-spy"


@dataclass(frozen=True, slots=True)
class RunSummary:
    """py-spy's own end-of-run count: the instants it kept (without --idle, only those
    where some thread was active) and the instants it could not read."""

    samples: int
    errors: int


def parse_run_summary(stdout: str) -> RunSummary | None:
    match = _SAMPLES_RE.search(stdout)
    if match is None:
        return None
    return RunSummary(int(match.group(1)), int(match.group(2)))


def classify_failure(pid: int, stderr: str, stdout: str = "") -> FlametopError:
    """Turn py-spy's error output into the error class a user can act on."""
    text = f"{stderr}\n{stdout}"
    low = text.lower()
    if "permission denied" in low or "operation not permitted" in low:
        return permission_error(pid)
    unsupported = re.search(r"unsupported version of python:?\s*([\w.+-]*)", low)
    if unsupported:
        version = f"Python {unsupported.group(1)}" if unsupported.group(1) else "a Python"
        return NotPythonError(
            f"pid {pid} runs {version} that this py-spy cannot read: upgrade py-spy "
            "(`pip install -U py-spy` in flametop's environment, or point "
            f"{PYSPY_ENV} at a newer one)"
        )
    if "failed to find python version" in low or "not a python" in low:
        return NotPythonError(
            f"pid {pid} is not a Python process py-spy can read: give the pid of the "
            "python interpreter itself (not a shell or wrapper)"
        )
    if "no such file or directory" in low or "no such process" in low:
        return TargetNotFoundError(
            f"no process with pid {pid}: check the pid with `ps` (it may have exited)"
        )
    return SamplerFailedError(f"py-spy failed on pid {pid}: {first_error_line(text)}")


def first_error_line(text: str) -> str:
    """The most telling line of py-spy's output, without Rust backtraces."""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("Error:") or line.lower().startswith("permission"):
            return line.removeprefix("Error:").strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0] if lines else "no error message"
