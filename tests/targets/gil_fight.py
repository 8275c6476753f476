"""Four threads spinning in pure Python: they fight for the GIL, so at any instant one
holds it and the others wait for it."""

import sys
import threading
import time


def fight(until: float) -> None:
    x = 0
    while time.monotonic() < until:
        x += 1


def main() -> None:
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else float("inf")
    until = time.monotonic() + limit
    workers = [threading.Thread(target=fight, args=(until,), name=f"fighter-{i}") for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


if __name__ == "__main__":
    main()
