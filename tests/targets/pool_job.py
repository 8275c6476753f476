"""A multiprocessing.Pool job: four workers squaring numbers until stopped."""

import multiprocessing
import sys
import time


def square(n: int) -> int:
    end = time.perf_counter() + 0.01
    while time.perf_counter() < end:
        pass
    return n * n


def main() -> None:
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else float("inf")
    end = time.monotonic() + limit
    with multiprocessing.Pool(4) as pool:
        while time.monotonic() < end:
            pool.map(square, range(100))


if __name__ == "__main__":
    main()
