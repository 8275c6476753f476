"""Output validation for the commands that write files (`record -o`, `report -o`): a known
format per output, an existing writable directory, no file in the way unless --force —
checked before any work starts, so a typo costs no waiting."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from samplers.errors import OutputError, UsageError
from samplers.formats.registry import format_for_output


@dataclass(frozen=True, slots=True)
class OutputSpec:
    path: Path
    fmt: str


def validate_outputs(
    outputs: Sequence[str], formats: Sequence[str] | None, force: bool
) -> tuple[OutputSpec, ...]:
    """Check every output before sampling starts, so a typo costs no waiting: a known
    format, an existing writable directory, and no file in the way unless --force."""
    if not outputs:
        raise UsageError("give an output file with -o OUT (for example -o profile.svg)")
    formats = list(formats or [])
    if len(formats) > len(outputs):
        raise UsageError(f"{len(formats)} --format for {len(outputs)} -o; give one per output")
    specs: list[OutputSpec] = []
    seen: set[Path] = set()
    for i, out in enumerate(outputs):
        path = Path(out)
        fmt = format_for_output(path, formats[i] if i < len(formats) else None)
        resolved = path.resolve()
        if resolved in seen:
            raise UsageError(f"{out} is given twice with -o; give each output once")
        seen.add(resolved)
        _check_writable(path, force)
        specs.append(OutputSpec(path, fmt))
    return tuple(specs)


def _check_writable(path: Path, force: bool) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(
            f"cannot write {path}: directory {parent} does not exist; create it first"
        )
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory; give a file name")
    if path.exists() and not force:
        raise OutputError(f"{path} exists; add --force to overwrite it or choose another name")
    try:
        # Really create a file: permissions, read-only mounts and quotas all show here.
        with tempfile.NamedTemporaryFile(dir=parent, prefix=".flametop-check-"):
            pass
    except OSError as exc:
        raise OutputError(
            f"cannot write in {parent} ({exc.strerror or exc}); choose a writable directory"
        ) from None
