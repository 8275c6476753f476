"""CPU-bound target: about 75% of its CPU time in hot_three_quarters, 25% in
warm_one_quarter (each loops in its own body, so the split shows as own time).
The split is by work done, not by clock time: a sampler that pauses the process, or a
busy machine that preempts it, would skew clock-timed slices.
Runs until killed, or for argv[1] seconds."""

import sys
import time

UNIT = 40_000  # loop iterations per quarter: a round takes a few milliseconds


def hot_three_quarters() -> None:
    for _ in range(3 * UNIT):
        pass


def warm_one_quarter() -> None:
    for _ in range(UNIT):
        pass


def main() -> None:
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else float("inf")
    stop = time.monotonic() + limit
    while time.monotonic() < stop:
        hot_three_quarters()
        warm_one_quarter()


if __name__ == "__main__":
    main()
