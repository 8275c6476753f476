"""Recursion 50 deep: recurse() calls itself 50 times, then burns CPU at the bottom.
A correct profile gives recurse a total of (nearly) 100%, never more."""

import sys
import time

DEPTH = 50


def bottom() -> None:
    end = time.perf_counter() + 0.01
    while time.perf_counter() < end:
        pass


def recurse(depth: int) -> None:
    if depth <= 1:
        bottom()
    else:
        recurse(depth - 1)


def main() -> None:
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else float("inf")
    stop = time.monotonic() + limit
    while time.monotonic() < stop:
        recurse(DEPTH)


if __name__ == "__main__":
    main()
