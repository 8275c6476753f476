"""The built-in demo target for `flametop demo`: a small fake web service.

Runs as its own Python process (flametop profiles it with py-spy like any other target):
named threads, a few layers of calls, some CPU-bound work, some sleeping, and a load that
shifts every few seconds so the screen has something to show. Exits when its parent goes
away, so an interrupted demo leaves nothing behind.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import threading
import time
import zlib

_stop = threading.Event()


def tokenize(text: str) -> list[str]:
    return [t for t in text.replace(",", " ").split() if t]


def parse_payload(raw: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(raw)
    data["tokens"] = tokenize(str(data.get("body", "")))
    return data


def compute_score(values: list[float]) -> float:
    total = 0.0
    for _ in range(30):
        for v in values:
            total += math.sqrt(abs(v) + 1.0) * math.sin(v)
    return total


def checksum(blob: bytes) -> str:
    digest = blob
    for _ in range(40):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()


def render_rows(rows: list[dict[str, object]]) -> str:
    return "\n".join(f"<tr><td>{r['id']}</td><td>{r['score']:.3f}</td></tr>" for r in rows)


def handle_request(rng: random.Random, heavy: bool) -> str:
    body = " ".join(f"word{rng.randint(0, 999)}" for _ in range(200))
    raw = json.dumps({"id": rng.randint(1, 10**6), "body": body})
    request = parse_payload(raw)
    values = [rng.random() * 100 for _ in range(400 if heavy else 120)]
    score = compute_score(values)
    rows = [{"id": request["id"], "score": score + i} for i in range(50)]
    page = render_rows(rows)
    checksum(page.encode())
    return page


def http_worker(seed: int) -> None:
    rng = random.Random(seed)
    while not _stop.is_set():
        # every 10 s the heavy phase moves between workers: the table reorders
        heavy = int(time.time() / 10) % 2 == seed % 2
        handle_request(rng, heavy)
        if not heavy:
            time.sleep(0.01)


def run_query(rng: random.Random) -> list[int]:
    time.sleep(0.05 + rng.random() * 0.05)  # waiting on the "database": wall time, no CPU
    return [rng.randint(0, 100) for _ in range(20)]


def db_pool() -> None:
    rng = random.Random(7)
    while not _stop.is_set():
        run_query(rng)


def compress_logs(rng: random.Random) -> int:
    blob = bytes(rng.getrandbits(8) for _ in range(20_000))
    return len(zlib.compress(blob * 4, 6))


def scheduler() -> None:
    rng = random.Random(11)
    while not _stop.is_set():
        compress_logs(rng)
        time.sleep(0.3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="flametop's demo workload")
    parser.add_argument("--duration", type=float, default=0.0, help="seconds; 0 runs forever")
    args = parser.parse_args(argv)
    parent = os.getppid()
    threads = [
        threading.Thread(target=http_worker, args=(1,), name="http-worker-1", daemon=True),
        threading.Thread(target=http_worker, args=(2,), name="http-worker-2", daemon=True),
        threading.Thread(target=db_pool, name="db-pool", daemon=True),
        threading.Thread(target=scheduler, name="scheduler", daemon=True),
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + args.duration if args.duration > 0 else None
    try:
        while deadline is None or time.monotonic() < deadline:
            if os.getppid() != parent:
                break  # flametop went away without stopping us
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    _stop.set()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
