"""Profile formats: one module per format, each with a reader and a writer over `Profile`.

Public API (implemented in samplers/formats/registry.py and re-exported here):
    FORMATS                                  names: "svg", "pprof", "speedscope", "folded", "flametop"
    format_for_output(path, fmt=None) -> str  the format to write: `fmt`, else from the suffix
    detect_format(path) -> str                the format of an existing file, by content first
    read_profile(path, fmt=None, sample_type=None) -> Profile      raises FormatError
    write_profile(profile, path, fmt=None, overwrite=False) -> Path raises OutputError

Also: READABLE (FORMATS less "svg", plus "chrometrace"), `svg.write_diff(new, baseline)`
for the differential flame graph, and `registry.parse(data, fmt)` / `registry.WRITERS` for
bytes in memory. Every writer's output goes through samplers.formats.fileio.atomic_write
(0600, never replacing a file unless asked). validate.py checks outputs before any work;
stack_text.py is the one grammar of stacks as text (py-spy's raw output, folded), read by
folded.py for files and pyspy_raw.py for the py-spy CLI backend's live chunks.
"""

from samplers.formats.registry import (
    FORMATS,
    READABLE,
    detect_format,
    format_for_output,
    read_profile,
    write_profile,
)

__all__ = [
    "FORMATS",
    "READABLE",
    "detect_format",
    "format_for_output",
    "read_profile",
    "write_profile",
]
