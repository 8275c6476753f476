"""py-spy's sampler inside flametop: aggregated stack counts (see native/src)."""

HAS_UNWIND: bool
PY_SPY_VERSION: str

class AttachError(Exception): ...

# t_start, t_end, ticks, late, missed, processes, errors, last_error, new frames
# (function, file, line), new stacks (frame ids, root first), thread names (pid, tid,
# name), counts (pid, tid, stack id, active, gil, count). Each process is sampled at
# instants of its own: ticks, late and missed are summed over them, processes says how
# many were attached (the most at once during the batch).
Batch = tuple[
    float,
    float,
    int,
    int,
    int,
    int,
    int,
    str | None,
    list[tuple[str, str, int]],
    list[list[int]],
    list[tuple[int, int, str]],
    list[tuple[int, int, int, bool, bool, int]],
]

class NativeSampler:
    python_version: str
    def __init__(
        self,
        pid: int,
        rate: float,
        *,
        nonblocking: bool = False,
        native: bool = False,
        subprocesses: bool = False,
        attach_timeout: float = 1.0,
    ) -> None: ...
    def drain(self, timeout: float, min_age: float = 0.0) -> tuple[Batch | None, str | None]: ...
    def stop(self, wait: float = 3.0) -> bool: ...
    def inject_panic(self) -> None: ...
