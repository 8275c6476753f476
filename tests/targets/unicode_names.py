"""Non-ASCII function, file and thread names: a thread named `работник-🔥` runs
`計算_ünïcode` from the module file `ünïcode_モジュール.py`."""

import importlib
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
module = importlib.import_module("ünïcode_モジュール")


def ループ(stop: threading.Event) -> None:
    while not stop.is_set():
        module.计算_ünïcode()


def main() -> None:
    limit = float(sys.argv[1]) if len(sys.argv) > 1 else float("inf")
    stop = threading.Event()
    worker = threading.Thread(target=ループ, args=(stop,), name="работник-🔥", daemon=True)
    worker.start()
    end = time.monotonic() + limit
    while time.monotonic() < end and worker.is_alive():
        time.sleep(0.1)
    stop.set()


if __name__ == "__main__":
    main()
