"""Threads with custom names, each busy in its own function: `cruncher-alpha` in
crunch_alpha and `cruncher-beta` in crunch_beta. The main thread waits."""

import sys
import threading
import time


def spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def crunch_alpha(stop: threading.Event) -> None:
    while not stop.is_set():
        spin(0.01)
        time.sleep(0.002)  # let the GIL change hands


def crunch_beta(stop: threading.Event) -> None:
    while not stop.is_set():
        spin(0.01)
        time.sleep(0.002)


def main() -> None:
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else float("inf")
    stop = threading.Event()
    workers = [
        threading.Thread(target=crunch_alpha, args=(stop,), name="cruncher-alpha", daemon=True),
        threading.Thread(target=crunch_beta, args=(stop,), name="cruncher-beta", daemon=True),
    ]
    for w in workers:
        w.start()
    stop.wait(None if limit == float("inf") else limit)
    stop.set()


if __name__ == "__main__":
    main()
