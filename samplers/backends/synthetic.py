"""Deterministic synthetic profiles: realistic enough for tests, demo screenshots and
benchmarks, and identical for the same arguments on every machine.

Shape (by design, in expectation over the whole run, as shares of own samples):
35% in `crc32_update`, 15% in `decode_row`, 10% in `render_cell` (20% in the second
half of the run, so history and baselines have a step to show), the rest spread over
many other functions. Stacks branch off each other like real call trees (shared
prefixes, 5-30 frames deep), some recurse, and every stack asked
for appears at least once.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timezone

from samplers import __version__
from samplers.model import Frame, Metadata, Profile, Sample, SampleBatch, Stack

T0 = 1_700_000_000.0
HOT = (
    (Frame("crc32_update", "app/hashing.py", 41), 0.35),
    (Frame("decode_row", "app/db.py", 118), 0.15),
    (Frame("render_cell", "app/render.py", 77), 0.10),
)
_VERBS = "load parse render compute fetch encode decode validate merge sort hash scan build apply resolve".split()
_NOUNS = "user order page row token item index cache query batch frame node record config session".split()


def thread_names(threads: int) -> list[str]:
    return ["MainThread"] + [f"worker-{i}" for i in range(1, max(1, threads))]


class _Shape:
    """The stacks, their threads and weights of one synthetic workload."""

    def __init__(self, n_stacks: int, threads: int, seed: int) -> None:
        rng = random.Random(seed)
        self.threads = thread_names(threads)
        n_pool = max(40, n_stacks // 4)
        pool: list[Frame] = []
        for i in range(n_pool):
            verb, noun = _VERBS[i % len(_VERBS)], _NOUNS[(i // len(_VERBS)) % len(_NOUNS)]
            suffix = (
                f"_{i // (len(_VERBS) * len(_NOUNS))}" if i >= len(_VERBS) * len(_NOUNS) else ""
            )
            pool.append(Frame(f"{verb}_{noun}{suffix}", f"app/{noun}s.py", rng.randint(10, 900)))
        main_prefix = (
            Frame("<module>", "app/main.py", 12),
            Frame("main", "app/main.py", 40),
            Frame("serve_forever", "app/server.py", 88),
        )
        worker_prefix = (
            Frame("_bootstrap", "threading.py", 995),
            Frame("run", "threading.py", 982),
            Frame("worker_loop", "app/worker.py", 23),
        )
        seen: set[Stack] = set()
        self.stacks: list[Stack] = []
        self.thread_of: list[int] = []
        self.category: list[int] = []  # index into HOT, or -1
        by_thread: list[list[Stack]] = [[] for _ in self.threads]
        attempts = 0
        while len(self.stacks) < n_stacks:
            tid = len(self.stacks) % len(self.threads)
            mine = by_thread[tid]
            if not mine or rng.random() < 0.05:  # a new call path from the thread's root
                prefix = main_prefix if tid == 0 else worker_prefix
                body = [
                    *prefix,
                    *(self._call_site(rng, rng.choice(pool)) for _ in range(rng.randint(1, 6))),
                ]
            else:  # branch off a known path, as real call trees do: shared prefixes
                parent = rng.choice(mine)[:-1]
                body = list(parent[: rng.randint(4, max(4, min(len(parent), 22)))])
                body.extend(
                    self._call_site(rng, rng.choice(pool)) for _ in range(rng.randint(1, 4))
                )
                if rng.random() < 0.1:  # re-enter a function already on the stack
                    body.append(rng.choice(body[3:]))
            r = rng.random()
            cat = 0 if r < 0.35 else 1 if r < 0.5 else 2 if r < 0.6 else -1
            leaf = HOT[cat][0] if cat >= 0 else self._call_site(rng, rng.choice(pool))
            stack = (*body, leaf)
            attempts += 1
            if stack in seen and attempts < n_stacks * 20:
                continue
            seen.add(stack)
            mine.append(stack)
            self.stacks.append(stack)
            self.thread_of.append(tid)
            self.category.append(cat)
        self.jitter = [rng.uniform(0.5, 1.5) for _ in range(n_stacks)]

    @staticmethod
    def _call_site(rng: random.Random, f: Frame) -> Frame:
        return Frame(f.function, f.file, f.line + rng.randint(1, 30))

    def cum_weights(self, render_boost: float) -> list[float]:
        shares = [share for _, share in HOT] + [1.0 - sum(share for _, share in HOT)]
        shares[2] *= render_boost
        norm = sum(shares)
        jitter_sum = [0.0] * 4
        for cat, j in zip(self.category, self.jitter, strict=True):
            jitter_sum[cat] += j
        cum: list[float] = []
        acc = 0.0
        for cat, j in zip(self.category, self.jitter, strict=True):
            acc += shares[cat] / norm * j / jitter_sum[cat]
            cum.append(acc)
        return cum


def synthetic_batches(
    n_stacks: int = 1000, seconds: int = 60, rate: float = 100.0, threads: int = 4, seed: int = 0
) -> Iterator[SampleBatch]:
    """One batch per second of `rate` samples per thread (all threads on CPU), from T0.
    Generated lazily so a one-hour run need not sit in memory."""
    shape = _Shape(n_stacks, threads, seed)
    rng = random.Random(seed + 1)
    per_second = max(1, round(rate * len(shape.threads)))
    cums = (shape.cum_weights(1.0), shape.cum_weights(2.0))
    ids = range(n_stacks)
    seconds = max(1, seconds)
    for i in range(seconds):
        counts: dict[int, int] = {}
        forced = range(i, n_stacks, seconds)  # every stack appears at least once
        for k in forced:
            counts[k] = counts.get(k, 0) + 1
        draws = max(0, per_second - len(forced))
        for k in rng.choices(ids, cum_weights=cums[1 if 2 * i >= seconds else 0], k=draws):
            counts[k] = counts.get(k, 0) + 1
        samples = tuple(
            Sample(shape.threads[shape.thread_of[k]], shape.stacks[k], c)
            for k, c in sorted(counts.items())
        )
        yield SampleBatch(T0 + i, T0 + i + 1, samples, "cpu", rate)


def synthetic_profile(
    n_stacks: int = 1000, seconds: int = 60, rate: float = 100.0, threads: int = 4, seed: int = 0
) -> Profile:
    """A whole synthetic profile; see the module docstring for its shape."""
    batches = tuple(synthetic_batches(n_stacks, seconds, rate, threads, seed))
    meta = Metadata(
        flametop_version=__version__,
        sampler="synthetic",
        rate=rate,
        mode="cpu",
        start_time=datetime.fromtimestamp(T0, timezone.utc).isoformat(),
        duration_s=float(max(1, seconds)),
        host="synthetic",
        python_version="3",
        source_format="synthetic",
        extra=(("seed", str(seed)), ("stacks", str(n_stacks)), ("threads", str(threads))),
    )
    return Profile(meta, batches)
