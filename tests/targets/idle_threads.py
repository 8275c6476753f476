"""50 threads waiting in Event.wait(timeout=5) and one main thread spinning in busy():
on-CPU time is all busy's; a wall view sees 51 threads."""

import sys
import threading
import time

IDLE = 50


def idle(stop: threading.Event) -> None:
    while not stop.wait(timeout=5):
        pass


def busy(until: float) -> None:
    x = 0
    while time.monotonic() < until:
        x += 1


def main() -> None:
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else float("inf")
    stop = threading.Event()
    for i in range(IDLE):
        threading.Thread(target=idle, args=(stop,), name=f"idle-{i}", daemon=True).start()
    busy(time.monotonic() + limit)
    stop.set()


if __name__ == "__main__":
    main()
