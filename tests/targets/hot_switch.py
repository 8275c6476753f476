"""A busy target whose hot function is chosen on the command line.

    python hot_switch.py alpha SECONDS   # alpha does about 3/4 of the work, beta 1/4
    python hot_switch.py beta SECONDS    # the other way round

Two runs of it differ only in which function is hot: a diff must show that.
"""

import sys
import time


def alpha(n: int) -> int:
    s = 0
    for i in range(n):
        s += i * i
    return s


def beta(n: int) -> int:
    s = 0
    for i in range(n):
        s ^= i * 3
    return s


def main() -> None:
    hot = sys.argv[1] if len(sys.argv) > 1 else "alpha"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    big, small = 30_000, 10_000
    a, b = (big, small) if hot == "alpha" else (small, big)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        alpha(a)
        beta(b)


if __name__ == "__main__":
    main()
