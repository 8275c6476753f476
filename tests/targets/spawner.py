"""Starts two Python subprocesses that burn CPU in child_burn(), then waits for them.
Runs until killed (the children die with it), or for argv[1] seconds."""

import signal
import subprocess
import sys
import time

CHILD = """
import time
def child_burn():
    while True:
        end = time.perf_counter() + 0.01
        while time.perf_counter() < end:
            pass
child_burn()
"""


def main() -> None:
    # SIGTERM runs the finally below, so the children never outlive us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else float("inf")
    children = [subprocess.Popen([sys.executable, "-c", CHILD]) for _ in range(2)]
    try:
        end = time.monotonic() + limit
        while time.monotonic() < end:
            time.sleep(0.1)
    finally:
        for child in children:
            child.kill()
            child.wait()


if __name__ == "__main__":
    main()
