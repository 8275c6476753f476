"""Errors a user can cause. Each message names the cause and the fix; the CLI prints it
on one line and exits 2 (or 1 when a run failed midway and its data was saved)."""

from __future__ import annotations


class FlametopError(Exception):
    """Base of every error the CLI reports as one line instead of a traceback."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(FlametopError):
    """Bad command-line usage (conflicting or missing options)."""


class TargetNotFoundError(FlametopError):
    """No process with that pid, or the command to start could not be run."""


class PermissionDeniedError(FlametopError):
    """The kernel refused ptrace / process_vm_readv on the target."""


class NotPythonError(FlametopError):
    """The target is not a Python process py-spy can read."""


class SamplerMissingError(FlametopError):
    """The py-spy executable could not be found or run."""


class SamplerFailedError(FlametopError):
    """The sampler failed mid-run; what was collected has been kept."""

    exit_code = 1


class TargetExitedError(FlametopError):
    """The target exited before anything could be sampled."""


class OutputError(FlametopError):
    """An output file or directory cannot be written."""


class FormatError(FlametopError):
    """A profile file is unreadable: empty, truncated, corrupt or of an unknown kind."""


class UploadError(FlametopError):
    """A profile server did not take a profile (refused it, or could not be reached).

    `keep` says whether sending the same profile later may succeed (an outage, a full
    server, wrong credentials being fixed) or never will (the server rejected the body)."""

    exit_code = 1

    def __init__(self, message: str, keep: bool = True, status: int | None = None) -> None:
        super().__init__(message)
        self.keep = keep
        self.status = status
