"""Idle target: sleeps in nap() almost all the time, so cpu mode sees almost nothing
and wall mode sees the sleep. Runs until killed, or for argv[1] seconds."""

import sys
import time


def nap() -> None:
    time.sleep(2.0)  # long naps: few wake-ups a cpu-mode sampler could catch


def main() -> None:
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else float("inf")
    stop = time.monotonic() + limit
    while time.monotonic() < stop:
        nap()


if __name__ == "__main__":
    main()
