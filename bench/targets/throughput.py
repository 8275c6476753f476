"""Benchmark target: a CPU-bound loop that prints, once a second, how many work units it
finished in that second and its scheduler counters (/proc/self/schedstat: ns on a CPU,
ns waiting for one), so a harness can measure its throughput alone and under a profiler
and discount time lost to other load on a shared machine. 75% of the work is in
hot_three_quarters by design. Runs argv[1] seconds."""

import sys
import time

UNIT = 20_000


def hot_three_quarters() -> None:
    for _ in range(3 * UNIT):
        pass


def warm_one_quarter() -> None:
    for _ in range(UNIT):
        pass


def schedstat() -> str:
    try:
        with open("/proc/self/schedstat") as f:
            run_ns, wait_ns = f.read().split()[:2]
        return f"{run_ns} {wait_ns}"
    except (OSError, ValueError):
        return "0 0"


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    start = time.monotonic()
    tick = start + 1.0
    done = 0
    print(f"0 0 {schedstat()}", flush=True)
    while True:
        hot_three_quarters()
        warm_one_quarter()
        done += 1
        now = time.monotonic()
        if now >= tick:
            print(f"{now - start:.6f} {done} {schedstat()}", flush=True)
            done = 0
            tick += 1.0
            if now - start >= seconds:
                return


if __name__ == "__main__":
    main()
